#!/usr/bin/env bash
exec "$AOS_ZIG" ar "$@"
