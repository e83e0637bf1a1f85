-- A model's traffic between its versions (DESIGN 1.11): the split as "version=weight" pairs ("3=90,4=10"; empty
-- for all to the active version) and an optional shadow. Gone with the model.
CREATE TABLE traffic (
    model           VARCHAR(63) PRIMARY KEY REFERENCES models(name) ON DELETE CASCADE,
    split           VARCHAR(2000) NOT NULL,
    shadow_version  INTEGER,
    shadow_percent  INTEGER,
    updated         TIMESTAMP NOT NULL
);

-- What share of a model's requests is recorded, and which fields are redacted ("ssn,card"), when set through the
-- API (PUT /api/models/{name}/payloads); without a row the active version's deploy.json "payloads" applies.
CREATE TABLE payload_settings (
    model           VARCHAR(63) PRIMARY KEY REFERENCES models(name) ON DELETE CASCADE,
    sample          DOUBLE PRECISION NOT NULL,
    redact          VARCHAR(2000) NOT NULL,
    updated         TIMESTAMP NOT NULL
);
