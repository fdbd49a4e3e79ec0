#!/bin/sh
set -eu
echo "report for $(pwd)"
