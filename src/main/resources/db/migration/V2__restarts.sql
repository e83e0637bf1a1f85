-- How often the health loop (or a user) restarted a deployment's cell; shown as "restarts".
ALTER TABLE deployments ADD COLUMN restarts INT DEFAULT 0 NOT NULL;
