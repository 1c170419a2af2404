-- The original platform's tables the save path touches (its own database in the benchmark).
CREATE TABLE users (
  id SERIAL PRIMARY KEY,
  username VARCHAR(100) NOT NULL UNIQUE,
  ast_workshop_completed BOOLEAN NOT NULL DEFAULT FALSE,
  ia_workshop_completed BOOLEAN NOT NULL DEFAULT FALSE
);
-- connect-pg-simple's table.
CREATE TABLE session (
  sid VARCHAR NOT NULL PRIMARY KEY,
  sess JSON NOT NULL,
  expire TIMESTAMP(6) NOT NULL
);
CREATE INDEX idx_session_expire ON session (expire);
CREATE TABLE workshop_step_data (
  id SERIAL PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  workshop_type VARCHAR(10) NOT NULL,
  step_id VARCHAR(20) NOT NULL,
  data JSONB NOT NULL,
  version INTEGER DEFAULT 1 NOT NULL,
  created_at TIMESTAMP DEFAULT NOW() NOT NULL,
  updated_at TIMESTAMP DEFAULT NOW() NOT NULL,
  UNIQUE (user_id, workshop_type, step_id)
);
CREATE INDEX idx_workshop_step_data_user_workshop ON workshop_step_data (user_id, workshop_type);
CREATE INDEX idx_workshop_step_data_step ON workshop_step_data (step_id);
