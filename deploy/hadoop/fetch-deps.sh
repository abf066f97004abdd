#!/usr/bin/env bash
# Copies the Hadoop 3.5.0 jars (pom.xml beside this script) from Maven Central into
# $MEDHUB_HADOOP_LIB (default <repo>/build/hadoop/lib). Maven caches them in ~/.m2, so a
# second run (or CI with ~/.m2 kept) downloads nothing. Idempotent; prints the folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
stamp="$MEDHUB_HADOOP_LIB/.complete"
if [[ -f "$stamp" && "$stamp" -nt "$here/pom.xml" ]]; then
  echo "$MEDHUB_HADOOP_LIB"
  exit 0
fi
command -v mvn > /dev/null || { echo "fetch-deps.sh: mvn not found (install maven)" >&2; exit 1; }
rm -rf "$MEDHUB_HADOOP_LIB"
mkdir -p "$MEDHUB_HADOOP_LIB"
mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies \
  -DoutputDirectory="$MEDHUB_HADOOP_LIB" -DincludeScope=runtime >&2
touch "$stamp"
echo "$MEDHUB_HADOOP_LIB"
