"""Models per target (category, department), rules that only suggest, the worker's retraining claim,
and the default keyword rules (wangge/triage/default_rules.py): one or more for every default category."""

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from wangge.triage.default_rules import DEFAULT_RULES, NOTE


def load(apps, schema_editor):
    Category = apps.get_model("demands", "Category")
    KeywordRule = apps.get_model("triage", "KeywordRule")
    known = set(Category.objects.values_list("code", flat=True))
    now = timezone.now()
    for code, pattern, priority in DEFAULT_RULES:
        if code not in known or KeywordRule.objects.filter(pattern=pattern, category_code=code).exists():
            continue  # a county that renumbered its catalogue, or a second run
        KeywordRule.objects.create(
            pattern=pattern,
            kind="regex",
            category_code=code,
            priority=priority,
            enabled=True,
            auto_apply=False,
            note=NOTE,
            updated_at=now,
        )


def unload(apps, schema_editor):
    apps.get_model("triage", "KeywordRule").objects.filter(note=NOTE, auto_apply=False).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('triage', '0002_default_label_mapping'),
        ('demands', '0002_default_categories'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='triagemodel',
            name='triagemodel_one_active',
        ),
        migrations.AddField(
            model_name='keywordrule',
            name='auto_apply',
            field=models.BooleanField(default=True, help_text='Off: the rule only suggests', verbose_name='apply without a person'),
        ),
        migrations.AddField(
            model_name='triagemodel',
            name='target',
            field=models.CharField(choices=[('category', 'Category'), ('department', 'Department')], default='category', max_length=12, verbose_name='target'),
        ),
        migrations.AddField(
            model_name='triagesettings',
            name='retrain_claimed_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddConstraint(
            model_name='triagemodel',
            constraint=models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('target',), name='triagemodel_one_active_per_target'),
        ),
        migrations.RunPython(load, unload),
    ]
