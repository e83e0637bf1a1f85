-- One row per model name: the port it keeps and the version that serves (or would, when stopped).
CREATE TABLE models (
    name              VARCHAR(63) PRIMARY KEY,
    port              INT UNIQUE,
    active_deploy_id  BIGINT,
    created           TIMESTAMP WITH TIME ZONE NOT NULL
);

-- One row per upload; deploy_id names the folder of its files.
CREATE TABLE deployments (
    deploy_id   BIGINT AUTO_INCREMENT PRIMARY KEY,
    model       VARCHAR(63) NOT NULL REFERENCES models(name) ON DELETE CASCADE,
    version     INT NOT NULL,
    state       VARCHAR(16) NOT NULL,
    port        INT,
    sha256      CHAR(64) NOT NULL,
    size        BIGINT NOT NULL,
    manifest    CLOB NOT NULL,
    created     TIMESTAMP WITH TIME ZONE NOT NULL,
    ready_at    TIMESTAMP WITH TIME ZONE,
    attempts    INT DEFAULT 0 NOT NULL,
    error       CLOB,
    CONSTRAINT deployments_model_version UNIQUE (model, version)
);

-- The audit log: every step of every deploy. Not tied to models by a foreign key, so it outlives them.
CREATE TABLE events (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    time        TIMESTAMP WITH TIME ZONE NOT NULL,
    model       VARCHAR(63),
    version     INT,
    deploy_id   BIGINT,
    kind        VARCHAR(32) NOT NULL,
    message     CLOB NOT NULL
);
CREATE INDEX events_model_time ON events (model, id);
