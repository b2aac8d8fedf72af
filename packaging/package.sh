#!/usr/bin/env bash
# ./collab package: target/collab-server-<version>.tar.gz, a release that needs only a Java 21+ runtime.
# Run by the launcher after `build` (the jar, target/libs and web/dist are fresh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
version="$(awk '/<artifactId>collab-server<\/artifactId>/ {f = 1} f && /<version>/ {gsub(/.*<version>|<\/version>.*/, ""); print; exit}' pom.xml)"
name="collab-server-$version"
stage="target/package/$name"
rm -rf target/package
mkdir -p "$stage/bin" "$stage/lib/libs" "$stage/web" "$stage/systemd" "$stage/nginx" "$stage/config"
cp target/collab-server.jar "$stage/lib/"
cp target/libs/*.jar "$stage/lib/libs/"           # the jar's manifest names them as libs/*.jar
[[ -f web/dist/index.html ]] || { echo "collab: web/dist is missing (./collab build makes it)" >&2; exit 1; }
cp -r web/dist/. "$stage/web/"
install -m 0755 packaging/collab-server "$stage/bin/collab-server"
install -m 0644 packaging/java.sh "$stage/bin/java.sh"
cp packaging/collab-server.service "$stage/systemd/"
cp nginx/collab.conf nginx/README.md "$stage/nginx/"
cp src/main/resources/application.yaml "$stage/config/application.yaml.example"   # the defaults, for reference
cp README.md "$stage/"
tar -czf "target/$name.tar.gz" -C target/package "$name"
echo "collab: target/$name.tar.gz"
