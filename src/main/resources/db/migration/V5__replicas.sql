-- Package bytes in the database, for replicas that share it (DESIGN 1.12): content-addressed by SHA-256, stored in
-- chunks of at most 1 MiB so that no package is ever one value in memory. A blob exists once its blobs row does;
-- that row is written after its last chunk, in the same transaction. BYTEA is PostgreSQL's binary type, and H2
-- takes it as BINARY VARYING.
CREATE TABLE blobs (
    sha256   CHAR(64) PRIMARY KEY,
    size     BIGINT NOT NULL,
    chunks   INTEGER NOT NULL,
    created  TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE TABLE blob_chunks (
    sha256  CHAR(64) NOT NULL,
    seq     INTEGER NOT NULL,
    bytes   BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);

-- The files of each version as blobs, so a replica that lacks a version's folder writes it from the database.
CREATE TABLE deployment_files (
    deploy_id  BIGINT NOT NULL REFERENCES deployments(deploy_id) ON DELETE CASCADE,
    path       VARCHAR(1000) NOT NULL,
    sha256     CHAR(64) NOT NULL,
    size       BIGINT NOT NULL,
    PRIMARY KEY (deploy_id, path)
);

-- The change feed replicas follow: one row per change (a kind and a model name), numbered from one counter row.
-- Writers take the counter's row lock until they commit, so ids become visible in order and a reader that keeps
-- the last id it saw misses none (an identity column can commit 7 before 6).
CREATE TABLE change_counter (
    id    INTEGER PRIMARY KEY,
    last  BIGINT NOT NULL
);
INSERT INTO change_counter (id, last) VALUES (1, 0);
CREATE TABLE changes (
    id     BIGINT PRIMARY KEY,
    time   TIMESTAMP WITH TIME ZONE NOT NULL,
    kind   VARCHAR(32) NOT NULL,
    model  VARCHAR(63),
    node   VARCHAR(200) NOT NULL
);

-- Each replica's own view of each model it holds, written by that replica as it follows the rows (GET
-- /api/models/{name} shows them as "replicas"). Gone with the model; a dead replica's row keeps its last_ping.
CREATE TABLE replicas (
    node       VARCHAR(200) NOT NULL,
    model      VARCHAR(63) NOT NULL REFERENCES models(name) ON DELETE CASCADE,
    version    INTEGER,
    state      VARCHAR(16) NOT NULL,
    port       INTEGER,
    healthy    BOOLEAN NOT NULL,
    last_ping  TIMESTAMP WITH TIME ZONE,
    seen       TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (node, model)
);

-- Which server wrote each event (--node), for replicas sharing one database; NULL for events written before.
ALTER TABLE events ADD COLUMN node VARCHAR(200);
