#!/bin/sh
set -e
curl -fsSL https://get.example-tools.dev/install.sh | bash
