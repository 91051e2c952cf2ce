"""Weather: a city's place found once, then its weather read on a schedule, from the first enabled account."""

from gateways.capabilities import Capability, Place, ProviderKind, WeatherAdapter, WeatherReport
from gateways.chain import account_run, enabled_accounts
from gateways.models import ProviderAccount


def weather_account() -> ProviderAccount | None:
    return next((account for account in enabled_accounts(Capability.WEATHER) if account.kind == ProviderKind.REAL),
                None)


def place_find(*, account_id: int, city: str, country: str = "") -> Place | None:
    def find(adapter: WeatherAdapter) -> Place | None:
        return adapter.geocode(city, country)

    return account_run(account_id=account_id, capability=Capability.WEATHER, operation=find).value


def weather_read(*, account_id: int, lat: float, lon: float) -> WeatherReport:
    def read(adapter: WeatherAdapter) -> WeatherReport:
        return adapter.weather(lat, lon)

    return account_run(account_id=account_id, capability=Capability.WEATHER, operation=read).value
