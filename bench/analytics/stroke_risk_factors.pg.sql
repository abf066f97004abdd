-- The stroke-risk-factors job (docs/analytics.md) in PostgreSQL 15 over tables
-- patient/condition/observation(j jsonb) holding the lake's lines. Same rules as the job and
-- as stroke_risk_factors.duckdb.sql; output rows match the job's CSV.
COPY (
WITH
pat AS (SELECT DISTINCT ON (j->>'id') j FROM patient ORDER BY j->>'id', (j->'meta'->>'versionId')::bigint DESC),
cond AS (SELECT DISTINCT ON (j->>'id') j FROM condition ORDER BY j->>'id', (j->'meta'->>'versionId')::bigint DESC),
c AS (
  SELECT substring(coalesce(j->'subject'->>'reference', j->'patient'->>'reference') from '([^/:]+)$') AS patient,
         j->'code'->'coding'->0->>'code' AS code
  FROM cond
  WHERE coalesce(j->'meta'->>'tag', '') NOT LIKE '%urn:medhub:lake%'
    AND coalesce(j->'verificationStatus'->'coding'->0->>'code', '') NOT IN ('refuted', 'entered-in-error')),
obs AS (SELECT DISTINCT ON (j->>'id') j FROM observation
        WHERE j->'code'->'coding'->0->>'code' IN ('39156-5', '72166-2')
        ORDER BY j->>'id', (j->'meta'->>'versionId')::bigint DESC),
o AS (
  SELECT j->>'id' AS id, substring(j->'subject'->>'reference' from '([^/:]+)$') AS patient,
         j->'code'->'coding'->0->>'code' AS code,
         substr(coalesce(j->>'effectiveDateTime', j->>'issued', ''), 1, 10) AS day,
         (j->'valueQuantity'->>'value')::double precision AS value,
         j->'valueCodeableConcept'->'coding'->0->>'code' AS answer
  FROM obs
  WHERE coalesce(j->'meta'->>'tag', '') NOT LIKE '%urn:medhub:lake%'
    AND coalesce(j->>'status', '') NOT IN ('entered-in-error', 'cancelled')),
bmi AS (SELECT DISTINCT ON (patient) patient, value AS v FROM o WHERE code = '39156-5' ORDER BY patient, day DESC, id DESC),
smk AS (SELECT DISTINCT ON (patient) patient, answer AS v FROM o WHERE code = '72166-2' ORDER BY patient, day DESC, id DESC),
f AS (
  SELECT p.j->>'id' AS id,
    bool_or(c.code = '230690007') AS stroke,
    bool_or(c.code = '38341003') AS hypertension,
    bool_or(c.code = '49436004') AS atrial_fibrillation,
    bool_or(c.code IN ('44054006', '73211009', '46635009', '368581000119106', '422034002',
                       '127013003', '90781000119102', '157141000119108', '1551000119108',
                       '97331000119101', '60951000119105')) AS diabetes,
    bool_or(c.code IN ('77176002', '449868002', '65568007')) AS smoker_condition,
    bool_or(c.code IN ('162864005', '408512008', '414916001')) AS obesity_condition
  FROM pat p LEFT JOIN c ON c.patient = p.j->>'id'
  WHERE coalesce(p.j->'meta'->>'tag', '') NOT LIKE '%urn:medhub:lake%'
  GROUP BY p.j->>'id'),
g AS (
  SELECT CASE WHEN coalesce(stroke, false) THEN 'stroke' ELSE 'no_stroke' END AS grp,
    coalesce(hypertension, false) AS hypertension,
    coalesce(atrial_fibrillation, false) AS atrial_fibrillation,
    coalesce(diabetes, false) AS diabetes,
    coalesce(smoker_condition, false)
      OR coalesce(smk.v IN ('449868002', '428041000124106', '77176002', '65568007',
                            '428061000124105', '428071000124103'), false) AS smoking,
    coalesce(obesity_condition, false) OR coalesce(bmi.v >= 30.0, false) AS obesity
  FROM f LEFT JOIN bmi ON bmi.patient = f.id LEFT JOIN smk ON smk.patient = f.id),
u AS (
  SELECT grp, x.risk_factor, x.has FROM g,
  LATERAL (VALUES ('atrial_fibrillation', atrial_fibrillation), ('diabetes', diabetes),
                  ('hypertension', hypertension), ('obesity', obesity), ('smoking', smoking))
    AS x(risk_factor, has))
SELECT grp AS "group", risk_factor, count(*) AS patients,
       count(*) FILTER (WHERE has) AS with_factor,
       to_char(count(*) FILTER (WHERE has)::numeric / count(*), 'FM0.0000') AS prevalence
FROM u GROUP BY grp, risk_factor ORDER BY grp COLLATE "C", risk_factor COLLATE "C"
) TO STDOUT WITH (FORMAT csv, HEADER);
