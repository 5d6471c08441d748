-- bench/cases.py fill: :n cases in one INSERT ... SELECT (not through the actions).
-- Points: a random component's point (or point on surface) jittered by up to ~4 m, so cases lie
-- where the city's street furniture is. Placement snapshot from the unit grid containing the
-- point (its community, street, district; the responsibility grid holding that unit grid).
-- Indexes are dropped before and rebuilt after (their definitions kept from pg_indexes).
SET maintenance_work_mem = '512MB';
SET work_mem = '128MB';

CREATE TEMP TABLE fill_comp AS
SELECT row_number() OVER () AS rn, code,
       CASE WHEN GeometryType(geom) = 'POINT' THEN geom ELSE ST_PointOnSurface(geom) END AS geom
FROM spatial_component;
CREATE TEMP TABLE fill_minor AS
SELECT row_number() OVER (ORDER BY id) AS rn, id, kind FROM data_category WHERE parent_id IS NOT NULL;
CREATE TEMP TABLE fill_dept AS
SELECT row_number() OVER (ORDER BY id) AS rn, id FROM accounts_department WHERE code LIKE 'H-%';
CREATE TEMP TABLE fill_inspector AS
SELECT substr(username, 11) AS street_code, id FROM auth_user WHERE username LIKE 'inspector-%';

CREATE TEMP TABLE fill_idx AS
SELECT indexname, indexdef FROM pg_indexes
WHERE tablename = 'cases_case'
  -- Indexes behind constraints (primary key, unique number, unique report key) stay.
  AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'cases_case'::regclass);
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexname FROM fill_idx LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
END $$;

-- u: one uniform draw per decision, so the mix is reproducible with setseed.
SELECT setseed(0.2026);
CREATE TEMP TABLE fill_raw AS
SELECT g AS i,
       random() AS u_state, random() AS u_src, random() AS u_dl, random() AS u_t, random() AS u_cat,
       random() AS u_dept, random() AS u_lvl,
       1 + floor(random() * (SELECT count(*) FROM fill_comp))::bigint AS comp_rn,
       (random() - 0.5) * 8e-5 AS dx, (random() - 0.5) * 8e-5 AS dy
FROM generate_series(1, :n) g;

CREATE TEMP TABLE fill_case AS
SELECT r.*, c.code AS comp_code,
       ST_SetSRID(ST_MakePoint(ST_X(c.geom) + r.dx, ST_Y(c.geom) + r.dy), 4326) AS geom,
       CASE  -- most closed; some in every open state
         WHEN r.u_state < 0.020 THEN 'not_accepted' WHEN r.u_state < 0.035 THEN 'invalid'
         WHEN r.u_state < 0.045 THEN 'not_registered' WHEN r.u_state < 0.050 THEN 'reported'
         WHEN r.u_state < 0.055 THEN 'to_verify' WHEN r.u_state < 0.058 THEN 'verifying'
         WHEN r.u_state < 0.063 THEN 'to_register' WHEN r.u_state < 0.070 THEN 'to_dispatch'
         WHEN r.u_state < 0.120 THEN 'handling' WHEN r.u_state < 0.128 THEN 'to_check'
         WHEN r.u_state < 0.132 THEN 'checking' WHEN r.u_state < 0.137 THEN 'to_close'
         ELSE 'closed' END AS state,
       CASE WHEN r.u_src < 0.60 THEN 'inspector' WHEN r.u_src < 0.80 THEN 'hotline'
            WHEN r.u_src < 0.90 THEN 'public' WHEN r.u_src < 0.95 THEN 'video'
            WHEN r.u_src < 0.97 THEN 'survey' WHEN r.u_src < 0.99 THEN 'leader'
            ELSE 'media' END AS source
FROM fill_raw r JOIN fill_comp c ON c.rn = r.comp_rn;

-- Open cases were reported in the last 30 days, finished ones over the last year (none today:
-- today's numbers stay free for the registration bench).
CREATE TEMP TABLE fill_timed AS
SELECT f.*,
       date_trunc('day', now()) - interval '1 second'
         - (CASE WHEN f.state IN ('closed', 'not_accepted', 'invalid', 'not_registered')
                 THEN f.u_t * 364 ELSE f.u_t * 30 END) * interval '1 day' AS reported_at,
       m.id AS category_id, m.kind AS kind, d.id AS dept_id
FROM fill_case f
JOIN fill_minor m ON m.rn = 1 + floor(f.u_cat * (SELECT count(*) FROM fill_minor))
JOIN fill_dept d ON d.rn = 1 + floor(f.u_dept * (SELECT count(*) FROM fill_dept));

INSERT INTO cases_case (
  number, source, kind, level, urgent, description, address, geom, component_code,
  reporter_name, reporter_phone, reporter_private, callback_wanted, reported_at,
  district_code, district_name, street_code, street_name, community_code, community_name,
  unit_grid_code, grid_code, grid_name, timing_zone, road_name,
  state, check_passed, rework_count, stage_started_at, stage_limit_amount, stage_limit_unit,
  deadline, warning_at, deadline_state, custom_deadline, handling_deadline, closed_at,
  updated_at, version, category_id, department_id, reported_by_id, close_condition_id,
  register_condition_id, workflow_id, self_handled, dispatch_mode)
SELECT
  to_char(t.reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
    || lpad(row_number() OVER (PARTITION BY (t.reported_at AT TIME ZONE 'Asia/Shanghai')::date
                               ORDER BY t.reported_at, t.i)::text, 6, '0'),
  t.source, t.kind,
  CASE WHEN t.u_lvl < 0.85 THEN 'routine' WHEN t.u_lvl < 0.97 THEN 'general' ELSE 'serious' END,
  t.u_lvl > 0.98,
  (ARRAY['井盖破损','路灯不亮','垃圾满溢','占道经营','违规停车','绿地脏乱','道路破损',
         '乱堆物料','非法小广告','积水'])[1 + (t.i % 10)] || '，需要处理（' || t.i || '）',
  '', t.geom, CASE WHEN t.kind = 'component' AND t.i % 3 = 0 THEN t.comp_code ELSE '' END,
  CASE WHEN t.source IN ('hotline', 'public') THEN '市民' || (t.i % 1000) ELSE '' END,
  CASE WHEN t.source IN ('hotline', 'public') THEN '1380000' || lpad((t.i % 10000)::text, 4, '0') ELSE '' END,
  false, t.source = 'hotline', t.reported_at,
  coalesce(dist.code, ''), coalesce(dist.name, ''), coalesce(st.code, ''), coalesce(st.name, ''),
  coalesce(com.code, ''), coalesce(com.name, ''), coalesce(ug.code, ''),
  coalesce(rg.code, ''), coalesce(rg.name, ''), '', '',
  t.state,
  CASE WHEN t.state = 'closed' THEN true END,
  0,
  t.reported_at + CASE WHEN t.state = 'closed' THEN interval '2 days' ELSE t.u_dl * interval '1 day' END,
  CASE WHEN t.state = 'closed' THEN NULL ELSE 16 END,
  CASE WHEN t.state = 'closed' THEN '' ELSE 'working_hours' END,
  CASE WHEN t.state IN ('closed', 'not_accepted', 'invalid', 'not_registered') THEN NULL
       ELSE t.reported_at + interval '3 days' END,
  CASE WHEN t.state IN ('closed', 'not_accepted', 'invalid', 'not_registered') THEN NULL
       ELSE t.reported_at + interval '2 days' END,
  CASE WHEN t.state IN ('closed', 'not_accepted', 'invalid', 'not_registered') THEN 'none'
       WHEN t.u_dl < 0.70 THEN 'normal' WHEN t.u_dl < 0.85 THEN 'warning' ELSE 'overdue' END,
  NULL,
  CASE WHEN t.state IN ('handling', 'to_check', 'checking', 'to_close', 'closed')
       THEN t.reported_at + interval '4 days' END,
  CASE WHEN t.state IN ('closed', 'not_accepted', 'invalid', 'not_registered')
       THEN t.reported_at + interval '3 days' END,
  t.reported_at + interval '3 days', 5, t.category_id,
  CASE WHEN t.state IN ('handling', 'to_check', 'checking', 'to_close', 'closed') THEN t.dept_id END,
  CASE WHEN t.source = 'inspector' THEN ins.id END,
  NULL, NULL,
  w.id, false, 'normal'
FROM fill_timed t
LEFT JOIN LATERAL (SELECT u.id, u.code, u.community_id FROM spatial_unitgrid u
                   WHERE ST_Intersects(u.geom, t.geom) LIMIT 1) ug ON true
LEFT JOIN spatial_adminarea com ON com.id = coalesce(ug.community_id,
  (SELECT a.id FROM spatial_adminarea a WHERE a.level = 'community'
   AND ST_Intersects(a.geom, t.geom) LIMIT 1))
LEFT JOIN spatial_adminarea st ON st.id = com.parent_id
LEFT JOIN spatial_adminarea dist ON dist.id = st.parent_id
LEFT JOIN LATERAL (SELECT r.code, r.name FROM spatial_responsibilitygrid_unit_grids x
                   JOIN spatial_responsibilitygrid r ON r.id = x.responsibilitygrid_id
                   WHERE x.unitgrid_id = ug.id LIMIT 1) rg ON true
LEFT JOIN fill_inspector ins ON ins.street_code = st.code
JOIN cases_workflow w ON w.key = CASE
  WHEN t.source = 'inspector' THEN 'direct-inspector' WHEN t.source = 'survey' THEN 'direct-survey'
  ELSE 'verified-' || t.source END
ORDER BY t.reported_at;  -- heap in report order, as cases arrive

-- The daily sequence continues after the filled numbers.
INSERT INTO cases_casenumbercounter (day, last)
SELECT left(number, 8)::date, max(right(number, 6)::int) FROM cases_case GROUP BY 1
ON CONFLICT (day) DO UPDATE SET last = greatest(cases_casenumbercounter.last, excluded.last);

SET CONSTRAINTS ALL IMMEDIATE;  -- the deferred FK checks run now, before CREATE INDEX
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexdef FROM fill_idx LOOP EXECUTE r.indexdef; END LOOP;
END $$;
ANALYZE cases_case;
ANALYZE cases_casenumbercounter;
