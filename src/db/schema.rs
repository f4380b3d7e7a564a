//! Table definitions for diesel, written by hand to match both migration folders. Only the column
//! types that MultiConnection shares between SQLite and PostgreSQL appear here.

diesel::table! {
    members (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        search_key -> Text,
        password_hash -> Text,
        role -> Text,
        active -> Bool,
        timezone -> Text,
        max_active_assignments -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        member_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(refresh_tokens -> members (member_id));

diesel::table! {
    categories (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    prayer_requests (id) {
        id -> Text,
        title -> Text,
        body -> Text,
        search_text -> Text,
        category_id -> Text,
        kind -> Text,
        on_behalf_of -> Nullable<Text>,
        visibility -> Text,
        urgent -> Bool,
        anonymous -> Bool,
        allow_comments -> Bool,
        status -> Text,
        expires_on -> Date,
        prayer_count -> BigInt,
        intercessor_count -> BigInt,
        last_prayed_at -> Nullable<Timestamp>,
        requester_id -> Nullable<Text>,
        submitter_name -> Nullable<Text>,
        submitter_email -> Nullable<Text>,
        flagged -> Bool,
        flag_reason -> Nullable<Text>,
        flagged_at -> Nullable<Timestamp>,
        rejection_reason -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        testimony -> Nullable<Text>,
        share_testimony -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    prayers (id) {
        id -> Text,
        request_id -> Text,
        member_id -> Nullable<Text>,
        note -> Nullable<Text>,
        anonymous -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    request_intercessors (request_id, member_id) {
        request_id -> Text,
        member_id -> Text,
        first_prayed_at -> Timestamp,
    }
}

diesel::table! {
    request_updates (id) {
        id -> Text,
        request_id -> Text,
        author_id -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    request_comments (id) {
        id -> Text,
        request_id -> Text,
        author_id -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    teams (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    team_members (team_id, member_id) {
        team_id -> Text,
        member_id -> Text,
        team_role -> Text,
        joined_at -> Timestamp,
    }
}

diesel::table! {
    assignments (id) {
        id -> Text,
        request_id -> Text,
        team_id -> Nullable<Text>,
        member_id -> Nullable<Text>,
        status -> Text,
        reason -> Nullable<Text>,
        assigned_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    watches (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        team_id -> Nullable<Text>,
        timezone -> Text,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        slot_minutes -> Integer,
        day_start -> Integer,
        day_end -> Integer,
        min_per_slot -> Integer,
        max_per_slot -> Nullable<Integer>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    watch_signups (id) {
        id -> Text,
        watch_id -> Text,
        member_id -> Text,
        slot_start -> Timestamp,
        repeat_weekly -> Bool,
        until -> Nullable<Date>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    watch_signup_slots (signup_id, slot_start) {
        signup_id -> Text,
        watch_id -> Text,
        member_id -> Text,
        slot_start -> Timestamp,
        slot_end -> Timestamp,
    }
}

diesel::table! {
    watch_check_ins (id) {
        id -> Text,
        watch_id -> Text,
        member_id -> Text,
        slot_start -> Timestamp,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    calendar_tokens (member_id) {
        member_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    fasts (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        fast_type -> Text,
        starts_on -> Date,
        days -> Integer,
        timezone -> Text,
        team_id -> Nullable<Text>,
        min_per_day -> Nullable<Integer>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    fast_focus (fast_id, day) {
        fast_id -> Text,
        day -> Integer,
        title -> Text,
        scripture -> Nullable<Text>,
        prayer_points -> Text,
    }
}

diesel::table! {
    fast_participants (fast_id, member_id) {
        fast_id -> Text,
        member_id -> Text,
        fast_type -> Text,
        all_days -> Bool,
        joined_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    fast_commitments (fast_id, member_id, day) {
        fast_id -> Text,
        member_id -> Text,
        day -> Integer,
    }
}

diesel::table! {
    fast_check_ins (fast_id, member_id, day) {
        fast_id -> Text,
        member_id -> Text,
        day -> Integer,
        kept -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        kind -> Text,
        actor_id -> Nullable<Text>,
        subject_type -> Text,
        subject_id -> Text,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(prayer_requests -> categories (category_id));
diesel::joinable!(watch_signups -> watches (watch_id));
diesel::joinable!(watch_signup_slots -> watch_signups (signup_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(assignments -> prayer_requests (request_id));
diesel::joinable!(prayers -> prayer_requests (request_id));
diesel::joinable!(request_intercessors -> prayer_requests (request_id));
diesel::joinable!(request_updates -> prayer_requests (request_id));
diesel::joinable!(request_comments -> prayer_requests (request_id));

diesel::table! {
    outbox (id) {
        id -> Text,
        notification_id -> Text,
        dedupe_key -> Text,
        event -> Text,
        channel -> Text,
        member_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        data -> Text,
        state -> Text,
        attempts -> Integer,
        run_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        webhook_id -> Nullable<Text>,
        response_status -> Nullable<Integer>,
        priority -> Integer,
    }
}

diesel::table! {
    outbox_news (id) {
        id -> Text,
        event -> Text,
        dedupe_key -> Text,
        request_id -> Nullable<Text>,
        data -> Text,
        members -> Text,
        channels -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        email -> Text,
        role -> Text,
        team_id -> Nullable<Text>,
        team_role -> Nullable<Text>,
        token_hash -> Text,
        status -> Text,
        invited_by -> Nullable<Text>,
        member_id -> Nullable<Text>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Text,
        member_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        events -> Text,
        description -> Nullable<Text>,
        active -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        member_id -> Text,
        event -> Text,
        request_id -> Nullable<Text>,
        title -> Text,
        body -> Text,
        link -> Nullable<Text>,
        data -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_preferences (member_id) {
        member_id -> Text,
        email -> Text,
        in_app -> Text,
        reminder_lead_minutes -> Integer,
        fast_reminder_time -> Text,
        quiet_start -> Nullable<Text>,
        quiet_end -> Nullable<Text>,
        discreet -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    blockouts (id) {
        id -> Text,
        member_id -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    replacements (id) {
        id -> Text,
        watch_id -> Text,
        signup_id -> Nullable<Text>,
        slot_start -> Timestamp,
        slot_end -> Timestamp,
        status -> Text,
        asked_by -> Nullable<Text>,
        note -> Nullable<Text>,
        filled_by -> Nullable<Text>,
        waves -> Integer,
        next_wave_at -> Nullable<Timestamp>,
        escalated -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    replacement_offers (replacement_id, member_id) {
        replacement_id -> Text,
        member_id -> Text,
        wave -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    periodic_tasks (name) {
        name -> Text,
        next_run_at -> Timestamp,
        last_run_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rate_limits (key) {
        key -> Text,
        tat -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    rate_limits,
    replacements,
    replacement_offers,
    blockouts,
    periodic_tasks,
    invitations,
    password_resets,
    webhooks,
    members,
    outbox,
    outbox_news,
    notifications,
    notification_preferences,
    refresh_tokens,
    categories,
    prayer_requests,
    prayers,
    request_intercessors,
    request_updates,
    request_comments,
    teams,
    team_members,
    assignments,
    watches,
    watch_signups,
    watch_signup_slots,
    watch_check_ins,
    calendar_tokens,
    fasts,
    fast_focus,
    fast_participants,
    fast_commitments,
    fast_check_ins,
    audit_events,
);
