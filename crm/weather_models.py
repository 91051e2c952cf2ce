"""The weather in each city where contacts live: one row per city, so segment rules join it in SQL."""

from django.db import models


class CityWeather(models.Model):
    """A contacts' city (matched on lower-case city and country, as contacts write them), its place found once
    by geocoding, and its latest weather. `rain_today` and `max_temperature_today` cover the rest of the
    city's own day (the current reading and the forecast slots before its midnight)."""

    city_key = models.CharField(max_length=120)
    country_key = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=120)
    country = models.CharField(max_length=120, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    geocoded_at = models.DateTimeField(null=True, blank=True, help_text="When the city was looked up (once)")
    found = models.BooleanField(default=False, help_text="False: the weather provider knows no such city")
    temperature_c = models.FloatField(null=True, blank=True, verbose_name="temperature (°C)")
    condition = models.CharField(max_length=40, blank=True, help_text="e.g. Rain, Clear, Clouds, Snow")
    rain_today = models.BooleanField(null=True, blank=True)
    max_temperature_today = models.FloatField(null=True, blank=True, verbose_name="highest today (°C)")
    observed_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["city_key", "country_key"]
        constraints = [models.UniqueConstraint(fields=["city_key", "country_key"], name="city_weather_once")]
        verbose_name = "city weather"
        verbose_name_plural = "city weather"

    def __str__(self) -> str:
        return f"{self.city}, {self.country}" if self.country else self.city
