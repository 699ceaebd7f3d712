#!/bin/sh
exec /usr/local/bin/sidekiq
