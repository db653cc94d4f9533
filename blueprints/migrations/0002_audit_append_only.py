"""The audit log refuses UPDATE and DELETE in the database itself, not only in the model.

(TRUNCATE, an administrator's deliberate purge, stays possible on PostgreSQL.)"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON blueprints_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON blueprints_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON blueprints_auditevent
       FOR EACH ROW EXECUTE FUNCTION audit_append_only();""",
]


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_no_update")
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_no_update_delete ON blueprints_auditevent")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_append_only()")


class Migration(migrations.Migration):
    dependencies = [("blueprints", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
