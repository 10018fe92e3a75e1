#!/bin/sh
# Nightly PostgreSQL backup: pg_dump custom format, checked, then old dumps pruned.
# Run by crm-backup.service as the crm user with /etc/crm/crm.env loaded (DATABASE_URL).
#   CRM_BACKUP_DIR        where dumps go (default /var/backups/crm); copy them off the machine
#   CRM_BACKUP_KEEP_DAYS  dumps older than this are deleted (default 14)
# Restore: pg_restore --clean --if-exists --no-owner --dbname=... crm-YYYYmmddTHHMMSSZ.dump
set -eu
backup_dir=${CRM_BACKUP_DIR:-/var/backups/crm}
keep_days=${CRM_BACKUP_KEEP_DAYS:-14}
: "${DATABASE_URL:?DATABASE_URL is not set (load /etc/crm/crm.env)}"

# libpq understands postgres:// and postgresql:// URLs, the same ones django-environ reads.
case "$DATABASE_URL" in
    postgres://* | postgresql://*) ;;
    *) echo "backup.sh: DATABASE_URL is not a postgres:// URL" >&2; exit 1 ;;
esac

umask 077
mkdir -p "$backup_dir"
target="$backup_dir/crm-$(date -u +%Y%m%dT%H%M%SZ).dump"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

pg_dump --format=custom --compress=6 --file="$partial" --dbname="$DATABASE_URL"
# A dump pg_restore cannot read is no backup: fail loudly now, not on the day it is needed.
pg_restore --list "$partial" >/dev/null
mv "$partial" "$target"
find "$backup_dir" -maxdepth 1 -name 'crm-*.dump' -type f -mtime +"$keep_days" -delete
echo "backup.sh: wrote $target ($(wc -c <"$target") bytes)"
