-- bench/indicators.py fill: the events of the cases bench/cases_fill.sql wrote (which writes
-- none), in one INSERT ... SELECT, as the actions would have left them: report; accept (and,
-- for sources the workflow verifies, the verification asked and answered); register; dispatch
-- (details.department); feedback; check asked and answered; close — each up to the case's
-- state, with the refusals (not accepted, invalid, not registered) where the state says so.
-- Times: accept +5 min, verification asked +6 and answered +30, register +40, dispatch +42,
-- feedback 1 h before the close (closed cases) or 2-39 h after the dispatch (open ones, never
-- in the future), check asked +5 and answered +30 after the feedback. Actors: the demo
-- acceptor, shift leader, dispatcher; the reporter for the report; none for the department and
-- the inspector's answers (their names only). Indexes are dropped and rebuilt around it.
SET maintenance_work_mem = '512MB';
SET work_mem = '128MB';

CREATE TEMP TABLE fill_idx AS
SELECT indexname, indexdef FROM pg_indexes
WHERE tablename = 'cases_caseevent' AND indexname <> 'cases_caseevent_pkey';
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexname FROM fill_idx LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
END $$;

CREATE TEMP TABLE fill_who AS
SELECT (SELECT id FROM auth_user WHERE username = 'acceptor') AS acceptor,
       (SELECT id FROM auth_user WHERE username = 'shiftleader') AS leader,
       (SELECT id FROM auth_user WHERE username = 'dispatcher') AS dispatcher;

INSERT INTO cases_caseevent (case_id, action, from_state, to_state, actor_id, actor_name,
                             position, department_id, at, opinion, details)
SELECT c.id, v.action, v.from_state, v.to_state, v.actor, v.actor_name, '', NULL, v.at, '',
       v.details
FROM (
    SELECT c.id, c.state, c.reported_at AS t0, c.closed_at, c.reported_by_id,
           c.source NOT IN ('inspector', 'survey') AS verified,
           CASE c.state WHEN 'reported' THEN 0 WHEN 'to_verify' THEN 1 WHEN 'verifying' THEN 2
                WHEN 'invalid' THEN 2 WHEN 'to_register' THEN 3 WHEN 'not_registered' THEN 3
                WHEN 'to_dispatch' THEN 4 WHEN 'handling' THEN 5 WHEN 'to_check' THEN 6
                WHEN 'checking' THEN 7 WHEN 'to_close' THEN 8 WHEN 'closed' THEN 9
                ELSE -1 END AS reach,
           d.code AS department,
           CASE WHEN c.state = 'closed' THEN c.closed_at - interval '1 hour'
                ELSE GREATEST(c.reported_at + interval '50 minutes',
                              LEAST(c.reported_at + interval '42 minutes'
                                      + (2 + c.id % 38) * interval '1 hour',
                                    now() - interval '1 hour')) END AS t_fb
    FROM cases_case c LEFT JOIN accounts_department d ON d.id = c.department_id
) c
CROSS JOIN fill_who w
CROSS JOIN LATERAL (VALUES
    ('report', '', 'reported', c.t0, c.reported_by_id, 'reporter',
     jsonb_build_object('source', 'bench'), TRUE),
    ('not_accept', 'reported', 'not_accepted', c.t0 + interval '5 minutes', w.acceptor,
     'acceptor', '{}'::jsonb, c.state = 'not_accepted'),
    ('accept', 'reported', 'to_verify', c.t0 + interval '5 minutes', w.acceptor, 'acceptor',
     '{}'::jsonb, c.verified AND c.reach >= 1),
    ('request_verify', 'to_verify', 'verifying', c.t0 + interval '6 minutes', w.acceptor,
     'acceptor', '{}'::jsonb, c.verified AND c.reach >= 2),
    ('verify', 'verifying', 'to_register', c.t0 + interval '30 minutes', NULL::int, 'inspector',
     '{"result": true}'::jsonb, c.verified AND c.reach >= 3),
    ('verify', 'verifying', 'invalid', c.t0 + interval '30 minutes', NULL::int, 'inspector',
     '{"result": false}'::jsonb, c.state = 'invalid'),
    ('accept', 'reported', 'to_register', c.t0 + interval '5 minutes', w.acceptor, 'acceptor',
     '{}'::jsonb, NOT c.verified AND c.reach >= 3),
    ('not_register', 'to_register', 'not_registered', c.t0 + interval '40 minutes', w.leader,
     'shiftleader', '{}'::jsonb, c.state = 'not_registered'),
    ('register', 'to_register', 'to_dispatch', c.t0 + interval '40 minutes', w.leader,
     'shiftleader', '{}'::jsonb, c.reach >= 4),
    ('dispatch', 'to_dispatch', 'handling', c.t0 + interval '42 minutes', w.dispatcher,
     'dispatcher', jsonb_build_object('department', c.department), c.reach >= 5),
    ('feedback', 'handling', 'to_check', c.t_fb, NULL::int, 'handler', '{}'::jsonb,
     c.reach >= 6),
    ('request_check', 'to_check', 'checking', c.t_fb + interval '5 minutes', w.acceptor,
     'acceptor', '{}'::jsonb, c.reach >= 7),
    ('check', 'checking', 'to_close', c.t_fb + interval '30 minutes', NULL::int, 'inspector',
     '{"result": true}'::jsonb, c.reach >= 8),
    ('close', 'to_close', 'closed', c.closed_at, w.leader, 'shiftleader', '{}'::jsonb,
     c.reach = 9)
) v(action, from_state, to_state, at, actor, actor_name, details, wanted)
WHERE v.wanted
ORDER BY v.at, c.id;  -- appended in time order, as the actions append them

DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexdef FROM fill_idx LOOP EXECUTE r.indexdef; END LOOP;
END $$;
ANALYZE cases_caseevent;
SELECT count(*) AS events FROM cases_caseevent;
