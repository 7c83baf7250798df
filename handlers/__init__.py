"""aiogram routers, one module per audience and feature. Order matters: first match wins."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    from handlers import common, group, profile, relay
    from handlers.resident import joining as resident_joining
    from handlers.resident import registration as resident_registration
    from handlers.resident import suggestions as resident_suggestions
    from handlers.resident import tasks as resident_tasks
    from handlers.resident import wishes as resident_wishes
    from handlers.staff import broadcast_progress as staff_broadcast_progress
    from handlers.staff import broadcasts as staff_broadcasts
    from handlers.staff import convenor as staff_convenor
    from handlers.staff import event_desk as staff_event_desk
    from handlers.staff import events as staff_events
    from handlers.staff import forresident as staff_forresident
    from handlers.staff import lists as staff_lists
    from handlers.staff import patrols as staff_patrols
    from handlers.staff import points as staff_points
    from handlers.staff import posts as staff_posts
    from handlers.staff import reports as staff_reports
    from handlers.staff import rewards as staff_rewards
    from handlers.staff import suggestions as staff_suggestions
    from handlers.staff import tasks as staff_tasks
    from handlers.staff import volunteers as staff_volunteers
    from handlers.staff import web as staff_web
    from handlers.staff import wishes as staff_wishes
    from handlers.volunteer import event_ratings as volunteer_event_ratings
    from handlers.volunteer import events as volunteer_events
    from handlers.volunteer import hazards as volunteer_hazards
    from handlers.volunteer import helper as volunteer_helper
    from handlers.volunteer import patrols as volunteer_patrols
    from handlers.volunteer import points as volunteer_points
    from handlers.volunteer import posts as volunteer_posts
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
        staff_event_desk.router(),  # /checkin and attendance: before the volunteers' /checkin
        volunteer_events.router(),
        staff_broadcast_progress.router(),
        staff_broadcasts.router(),
        staff_volunteers.router(),
        staff_wishes.router(),
        staff_reports.router(),
        staff_web.router(),
        volunteer_points.router(),
        staff_points.router(),
        staff_rewards.router(),
        staff_tasks.router(),
        volunteer_tasks.router(),
        resident_tasks.router(),
        # 治安巡查 and standing posts (issue 13): staff first (their /patrols, /posts).
        staff_patrols.router(),
        staff_posts.router(),
        volunteer_patrols.router(),
        volunteer_hazards.router(),
        volunteer_posts.router(),
        volunteer_helper.router(),  # issue 13 (lists): 党群接单
        staff_convenor.router(),  # issue 13 (lists): 召集人汇总
        staff_lists.router(),  # issue 13 (lists): 三张清单
        relay.router(),
        staff_suggestions.router(),  # before the free text that becomes a wish
        resident_suggestions.router(),
        volunteer_event_ratings.router(),
        staff_forresident.router(),  # its form's free text: before the wish catch-all
        resident_joining.router(),
        resident_wishes.router(),  # free text becomes a wish: after every form
        group.quiet_router(),  # swallows group chatter nobody above wanted
        common.fallback_router(),
    ]
