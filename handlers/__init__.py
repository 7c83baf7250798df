"""aiogram routers, one module per audience and feature. Order matters: first match wins."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    from handlers import common, group, profile, relay
    from handlers.resident import registration as resident_registration
    from handlers.resident import tasks as resident_tasks
    from handlers.resident import wishes as resident_wishes
    from handlers.staff import broadcasts as staff_broadcasts
    from handlers.staff import convenor as staff_convenor
    from handlers.staff import events as staff_events
    from handlers.staff import lists as staff_lists
    from handlers.staff import points as staff_points
    from handlers.staff import reports as staff_reports
    from handlers.staff import tasks as staff_tasks
    from handlers.staff import volunteers as staff_volunteers
    from handlers.staff import web as staff_web
    from handlers.staff import wishes as staff_wishes
    from handlers.volunteer import events as volunteer_events
    from handlers.volunteer import helper as volunteer_helper
    from handlers.volunteer import points as volunteer_points
    from handlers.volunteer import registration as volunteer_registration
    from handlers.volunteer import tasks as volunteer_tasks

    return [
        common.errors_router(),
        common.router(),
        profile.router(),
        resident_registration.router(),
        volunteer_registration.router(),
        group.router(),
        staff_events.router(),
        volunteer_events.router(),
        staff_broadcasts.router(),
        staff_volunteers.router(),
        staff_wishes.router(),
        staff_reports.router(),
        staff_web.router(),
        volunteer_points.router(),
        staff_points.router(),
        staff_tasks.router(),
        volunteer_tasks.router(),
        resident_tasks.router(),
        volunteer_helper.router(),  # issue 13 (lists): 党群接单
        staff_convenor.router(),  # issue 13 (lists): 召集人汇总
        staff_lists.router(),  # issue 13 (lists): 三张清单
        relay.router(),
        resident_wishes.router(),  # free text becomes a wish: after every form
        group.quiet_router(),  # swallows group chatter nobody above wanted
        common.fallback_router(),
    ]
