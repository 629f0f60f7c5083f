"""The demo: a living province built through the product's own paths
(``zhiyuan seed``). Nothing here is imported by a running service.

- :mod:`driver`: the order of the steps, each idempotent;
- :mod:`registration`: accounts, organisations, a few hundred volunteers
  registered one by one (the use cases);
- :mod:`province`: thousands of volunteers and a year and more of their hours
  through the bulk imports;
- :mod:`activity` (with :mod:`activity_demo`): projects walked through their
  life on a simulated clock, households paired, an emergency campaign
  running now;
- :mod:`recycling` (with :mod:`recycling_plan`, :mod:`recycling_facts`): the
  爱为宝 programme's reported figures;
- :mod:`commendation`: this year's award round, open for nominations;
- :mod:`stars` (with :mod:`hours`): what the workers make, waited for, then
  reviewed: hour records from check-outs, and star ratings at every level.
"""
