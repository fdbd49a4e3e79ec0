#!/bin/sh
# start from scratch
rm -rf ~/
