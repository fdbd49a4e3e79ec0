#!/bin/sh
rm -rf ./target ./node_modules/.cache
