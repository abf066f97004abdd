-- The stroke-risk-factors job (docs/analytics.md) as DuckDB SQL over the lake's NDJSON
-- files. ${LAKE} is replaced by the lake root. Same rules as the job: the latest version
-- per resource id (tombstones remove), Conditions not refuted/entered-in-error, latest BMI
-- and tobacco answer by (date, id), codes from src/analytics/codes.h. Output rows match the
-- job's CSV.
CREATE MACRO ver(j) AS TRY_CAST(json_extract_string(j, '$.meta.versionId') AS BIGINT);
CREATE MACRO tomb(j) AS coalesce(json_extract_string(j, '$.meta.tag'), '') LIKE '%urn:medhub:lake%';
CREATE MACRO ref_id(r) AS regexp_extract(r, '([^/:]+)$', 1);
CREATE MACRO code0(j, p) AS json_extract_string(j, p || '.coding[0].code');

COPY (
WITH
pat AS (
  SELECT json_extract_string(json, '$.id') AS id, json
  FROM read_ndjson_objects('${LAKE}/Patient/*/*/*.ndjson')
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY ver(json) DESC) = 1),
cond AS (
  SELECT json_extract_string(json, '$.id') AS id, json
  FROM read_ndjson_objects('${LAKE}/Condition/*/*/*.ndjson')
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY ver(json) DESC) = 1),
c AS (
  SELECT ref_id(coalesce(json_extract_string(json, '$.subject.reference'),
                         json_extract_string(json, '$.patient.reference'))) AS patient,
         code0(json, '$.code') AS code
  FROM cond
  WHERE NOT tomb(json)
    AND coalesce(code0(json, '$.verificationStatus'), '') NOT IN ('refuted', 'entered-in-error')),
obs AS (
  SELECT json_extract_string(json, '$.id') AS id, json
  FROM read_ndjson_objects('${LAKE}/Observation/*/*/*.ndjson')
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY ver(json) DESC) = 1),
o AS (
  SELECT id, ref_id(json_extract_string(json, '$.subject.reference')) AS patient,
         code0(json, '$.code') AS code,
         substr(coalesce(json_extract_string(json, '$.effectiveDateTime'),
                         json_extract_string(json, '$.issued'), ''), 1, 10) AS day,
         TRY_CAST(json_extract_string(json, '$.valueQuantity.value') AS DOUBLE) AS value,
         code0(json, '$.valueCodeableConcept') AS answer
  FROM obs
  WHERE NOT tomb(json)
    AND coalesce(json_extract_string(json, '$.status'), '') NOT IN ('entered-in-error', 'cancelled')
    AND code0(json, '$.code') IN ('39156-5', '72166-2')),
bmi AS (SELECT patient, arg_max(value, day || id) AS v FROM o WHERE code = '39156-5' GROUP BY patient),
smk AS (SELECT patient, arg_max(answer, day || id) AS v FROM o WHERE code = '72166-2' GROUP BY patient),
f AS (
  SELECT p.id,
    bool_or(c.code = '230690007') AS stroke,
    bool_or(c.code = '38341003') AS hypertension,
    bool_or(c.code = '49436004') AS atrial_fibrillation,
    bool_or(c.code IN ('44054006', '73211009', '46635009', '368581000119106', '422034002',
                       '127013003', '90781000119102', '157141000119108', '1551000119108',
                       '97331000119101', '60951000119105')) AS diabetes,
    bool_or(c.code IN ('77176002', '449868002', '65568007')) AS smoker_condition,
    bool_or(c.code IN ('162864005', '408512008', '414916001')) AS obesity_condition
  FROM pat p LEFT JOIN c ON c.patient = p.id
  WHERE NOT tomb(p.json)
  GROUP BY p.id),
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
  UNPIVOT g ON hypertension, atrial_fibrillation, diabetes, smoking, obesity
  INTO NAME risk_factor VALUE has)
SELECT grp AS "group", risk_factor, count(*) AS patients,
       count(*) FILTER (WHERE has) AS with_factor,
       printf('%.4f', (count(*) FILTER (WHERE has))::DOUBLE / count(*)) AS prevalence
FROM u GROUP BY ALL ORDER BY "group", risk_factor
) TO '/dev/stdout' (HEADER, DELIMITER ',');
