from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0004_topics_and_suppression_reasons'),
        ('publishing', '0004_review_queue'),
    ]

    operations = [
        migrations.AddField(
            model_name='emailblock',
            name='topics',
            field=models.ManyToManyField(blank=True, help_text='…or following any of these topics; none of the three: everyone', related_name='+', to='crm.topic'),
        ),
        migrations.AlterField(
            model_name='emailblock',
            name='segments',
            field=models.ManyToManyField(blank=True, help_text='…or in any of these segments', related_name='+', to='crm.segment'),
        ),
    ]
