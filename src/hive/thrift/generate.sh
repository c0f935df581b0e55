#!/bin/sh
# Regenerates the Node client in ./gen from the subset IDL (Debian: apt-get install thrift-compiler; 0.17 used).
# `es6` makes the calls return promises (without it they break on the thrift 0.24 runtime); no `ts`: the
# typed surface is written by hand in ../metastore-client.ts, for the few calls it makes.
set -e
cd "$(dirname "$0")"
rm -rf gen
mkdir gen
thrift --gen js:node,es6 -out gen hive_metastore_subset.thrift
# The generated code is CommonJS; the project is ESM.
echo '{ "type": "commonjs" }' > gen/package.json
