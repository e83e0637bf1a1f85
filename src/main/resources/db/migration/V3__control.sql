-- Identity values without a cache: H2 reserves 32 at a time by default, and a crash loses the unused ones, so
-- deploy_ids jumped by 32 after every kill -9.
ALTER TABLE deployments ALTER COLUMN deploy_id SET CACHE 1;
ALTER TABLE events ALTER COLUMN id SET CACHE 1;

-- Set (compare-and-set) while a model is being deleted: an upload of that name is refused with a 409 before its
-- 202 instead of being accepted and then removed with the model.
ALTER TABLE models ADD COLUMN deleting BOOLEAN DEFAULT FALSE NOT NULL;

-- One row the readiness check writes after a failed write, to learn whether writes succeed again.
CREATE TABLE store_probe (
    id  INT PRIMARY KEY,
    at  TIMESTAMP WITH TIME ZONE NOT NULL
);
INSERT INTO store_probe (id, at) VALUES (1, CURRENT_TIMESTAMP);
