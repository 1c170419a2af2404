// The save path of the platform this service replaces, as a benchmark peer: Express 5,
// express-session stored in PostgreSQL by connect-pg-simple (rolling sessions), and pg. Per
// save it does what the original does: load the session, look the user up for the workshop
// lock, upsert the step, touch the session.
//
// Environment: DATABASE_URL, PORT, SESSION_SECRET, POOL_SIZE.
'use strict';

const express = require('express');
const session = require('express-session');
const PgStore = require('connect-pg-simple')(session);
const { Pool } = require('pg');

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_SIZE || 10),
});
const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '10mb' }));
app.use(
  session({
    store: new PgStore({ pool, tableName: 'session', pruneSessionInterval: false }),
    secret: process.env.SESSION_SECRET,
    resave: false,
    rolling: true,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: 14 * 24 * 3600 * 1000 },
  }),
);

const STEP_ID = /^(ia-)?[1-4]-[0-9]{1,2}$/;

app.post('/api/workshop-data/step', async (req, res) => {
  const userId = req.session.userId;
  if (!userId) return res.status(401).json({ success: false, error: 'Not authenticated' });
  const { workshopType, stepId, data } = req.body ?? {};
  if (!['ast', 'ia'].includes(workshopType) || typeof stepId !== 'string' || !STEP_ID.test(stepId)
      || data === null || typeof data !== 'object') {
    return res.status(400).json({ success: false, error: 'Invalid request' });
  }
  try {
    const user = await pool.query(
      'SELECT ast_workshop_completed, ia_workshop_completed FROM users WHERE id = $1', [userId]);
    if (user.rows.length === 0) return res.status(401).json({ success: false, error: 'Not authenticated' });
    const completed = workshopType === 'ast'
      ? user.rows[0].ast_workshop_completed : user.rows[0].ia_workshop_completed;
    if (completed) return res.status(423).json({ success: false, error: 'Workshop is completed and locked' });
    const saved = await pool.query(
      `INSERT INTO workshop_step_data (user_id, workshop_type, step_id, data, version, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 1, NOW(), NOW())
       ON CONFLICT (user_id, workshop_type, step_id)
       DO UPDATE SET data = EXCLUDED.data, version = workshop_step_data.version + 1, updated_at = NOW()
       RETURNING *`,
      [userId, workshopType, stepId, data]);
    const row = saved.rows[0];
    res.json({
      success: true,
      data: {
        id: row.id, userId: row.user_id, workshopType: row.workshop_type, stepId: row.step_id,
        data: row.data, version: row.version, createdAt: row.created_at, updatedAt: row.updated_at,
      },
      stepId, workshopType, saved: true, lastUpdated: row.updated_at,
    });
  } catch (error) {
    console.error(error);
    res.status(500).json({ success: false, error: 'Failed to save workshop step data' });
  }
});

app.get('/healthz', (_req, res) => res.json({ ok: true }));

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
