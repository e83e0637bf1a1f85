-- Placeholder on branch s12-traffic only: V5 belongs to s12-pg (issue 18). At merge, take s12-pg's V5 and drop this.
SELECT COUNT(*) FROM schema_history;
