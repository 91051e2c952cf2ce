from django.db import migrations, models
from django.db.models import Q

# Before this migration a complaint was filed under "unsubscribed" (its unsubscribe came first and the
# first reason stays) and an erasure under "manual"; both left their source behind, which tells them apart.
COMPLAINT_SOURCES = Q(source="email:complaint") | Q(source__endswith=":complained")
ERASURE_SOURCE = "erased on the person's request"


def name_the_reasons(apps, schema_editor):
    Suppression = apps.get_model("crm", "Suppression")
    Suppression.objects.filter(COMPLAINT_SOURCES, reason="unsubscribed").update(reason="complained")
    Suppression.objects.filter(reason="manual", source=ERASURE_SOURCE).update(reason="erased")


def restore_the_reasons(apps, schema_editor):
    Suppression = apps.get_model("crm", "Suppression")
    Suppression.objects.filter(COMPLAINT_SOURCES, reason="complained").update(reason="unsubscribed")
    Suppression.objects.filter(reason="erased").update(reason="manual")


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0003_event_kind_time_contact'),
    ]

    operations = [
        migrations.CreateModel(
            name='Topic',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=120, unique=True)),
                ('slug', models.SlugField(help_text='Stable name used by the API and imports', max_length=60, unique=True)),
                ('description', models.TextField(blank=True, help_text='Shown under the name in the preference centre')),
                ('public', models.BooleanField(default=True, help_text='Offered to contacts in the email preference centre')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.AlterField(
            model_name='suppression',
            name='reason',
            field=models.CharField(choices=[('unsubscribed', 'Unsubscribed'), ('bounced', 'Bounced'), ('complained', 'Complained'), ('manual', 'Added by hand'), ('invalid', 'Invalid address'), ('erased', "Erased on the person's request")], max_length=20),
        ),
        migrations.AddField(
            model_name='contact',
            name='topics',
            field=models.ManyToManyField(blank=True, help_text='Topics of interest; change them through crm.services.contact_topics_set', related_name='contacts', to='crm.topic'),
        ),
        migrations.RunPython(name_the_reasons, restore_the_reasons),
    ]
