-- Named API tokens, each with a scope (admin, deploy, read, score). Only a SHA-256 of a token is kept, never the
-- token. A rotated admin token stays as a row named admin@<when> whose expires ends its grace period.
CREATE TABLE tokens (
    name        VARCHAR(100) PRIMARY KEY,
    scope       VARCHAR(16) NOT NULL,
    sha256      CHAR(64) NOT NULL UNIQUE,
    created     TIMESTAMP WITH TIME ZONE NOT NULL,
    expires     TIMESTAMP WITH TIME ZONE
);
