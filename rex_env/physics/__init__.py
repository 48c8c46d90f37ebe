"""Prosumer physics: what each asset actually produces or consumes, slot by slot (SPEC §8).

Units and conventions (the same everywhere in this package):

* power (rates) in kW, as one average rate per delivery slot; energy in kWh;
* prices and marginal costs in currency/MWh; a cost in currency;
* time in integer seconds; an episode is ``n_slots`` slots of ``slot_len`` seconds starting at
  midnight (standard time) of ``day_of_year`` (1 = 1 January) of the asset's ``year``;
* sign: a *net* rate > 0 is production / export, < 0 consumption / import. Asset outputs are
  reported as magnitudes: wind, PV and plant output >= 0 (production), household load >= 0
  (consumption, net rate = -load); a battery's rate > 0 is discharge.

Deterministic profiles come from the field's reference libraries (issue 16): pvlib for the
sun, clear sky and PV module, windpowerlib for turbine power curves and wind profiles,
demandlib for the BDEW household profiles. They are imported lazily, only here (never by the
exchange), and their arrays are memoised per geometry / turbine / year.

Randomness: every sampler takes one seeded ``np.random.Generator``; nothing here keeps or
creates generators, so the same seed gives identical arrays. Samplers are vectorised over
the whole episode.
"""

from .forecast import ForecastErrorModel, ForecastPath
from .load import (
    LOAD_PROFILES,
    DayType,
    Household,
    Season,
    easter_sunday,
    german_holidays,
    h0_day_type,
    h0_dynamisation,
    h0_season,
)
from .plant import ProvisionPlant
from .solar import (
    MOUNTS,
    YEAR_RANGE,
    PVSystem,
    cos_zenith,
    equation_of_time_min,
    haurwitz_ghi,
    solar_declination,
)
from .storage import Battery, BatteryState
from .wind import WIND_MODELS, WIND_PROFILES, WindFarm, power_curve, turbine_types

__all__ = [
    "LOAD_PROFILES",
    "MOUNTS",
    "WIND_MODELS",
    "WIND_PROFILES",
    "YEAR_RANGE",
    "Battery",
    "BatteryState",
    "DayType",
    "ForecastErrorModel",
    "ForecastPath",
    "Household",
    "PVSystem",
    "ProvisionPlant",
    "Season",
    "WindFarm",
    "cos_zenith",
    "easter_sunday",
    "equation_of_time_min",
    "german_holidays",
    "h0_day_type",
    "h0_dynamisation",
    "h0_season",
    "haurwitz_ghi",
    "power_curve",
    "solar_declination",
    "turbine_types",
]
