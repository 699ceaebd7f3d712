#!/bin/sh
exec httpd -f -p "${DISCOURSE_PORT_NUMBER:-3000}" -h /srv/discourse
