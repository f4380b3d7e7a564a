//! The names of what the service tells people, of its channels, and of a delivery's states.

crate::text_enum! {
    /// What happened, as notifications, preferences and webhooks name it.
    pub enum Event {
        /// A request was put in a member's hands, by name or through their team.
        AssignmentCreated => "assignment.created",
        /// An intercessor declined an assignment.
        AssignmentDeclined => "assignment.declined",
        /// An urgent request became active.
        RequestUrgent => "request.urgent",
        /// The requester or a leader posted an update.
        RequestUpdate => "request.update",
        /// The request was answered.
        RequestAnswered => "request.answered",
        /// An assignment has gone unprayed-for for `UNPRAYED_NUDGE_HOURS` (or twice that, to
        /// the assigner or the team's leaders).
        RequestUnprayed => "request.unprayed",
        /// Once a day at 08:00 in the requester's zone: how often their requests were prayed
        /// for since the last one (counts, never names).
        RequestPrayedDigest => "request.prayed_digest",
        /// A watch slot the member holds begins in `reminder_lead_minutes`.
        WatchReminder => "watch.reminder",
        /// A fast day the member committed to, not yet checked in on, is ending.
        FastCheckInReminder => "fast.check_in_reminder",
        /// Daily at 07:00 in a watch's zone: its gaps in the next 72 hours, to its leaders.
        WatchGapsDigest => "watch.gaps_digest",
        /// A slot needs someone: a replacement was asked for, or a late cancellation left it
        /// short.
        WatchSlotOpen => "watch.slot_open",
        /// Someone took a replacement: to its asker and the watch's leaders.
        ReplacementFilled => "replacement.filled",
        /// A replacement is still open 12 hours before its slot: to the watch's leaders.
        ReplacementUnfilled => "replacement.unfilled",
        /// A request was submitted (webhooks only).
        RequestCreated => "request.created",
        /// Someone prayed for a request (webhooks only).
        PrayerLogged => "prayer.logged",
        /// A member signed up for watch slots (webhooks only).
        SignupCreated => "signup.created",
        /// A watch signup was cancelled (webhooks only).
        SignupCancelled => "signup.cancelled",
        /// A participant checked in on a fast day (webhooks only).
        FastCheckIn => "fast.check_in",
        /// An admin asked for a test delivery (webhooks only, to that webhook).
        WebhookPing => "webhook.ping",
        /// An invitation to join, to its address (email only).
        Invitation => "invitation",
        /// A password reset link (email only, whatever the preferences).
        PasswordReset => "password.reset",
        /// The member's password was changed (email only, whatever the preferences).
        PasswordChanged => "password.changed",
    }
}

impl Event {
    /// Which due notices a worker takes first (the outbox's `priority`): 0 for those someone
    /// waits on at a given time, 2 for those that may wait, 1 for the rest. A flood of nudges
    /// (the first turn on a church with many old assignments) never holds back a reminder.
    pub fn priority(self) -> i32 {
        match self {
            Event::WatchReminder
            | Event::RequestUrgent
            | Event::PasswordReset
            | Event::Invitation
            | Event::WebhookPing => 0,
            Event::RequestUnprayed | Event::RequestPrayedDigest | Event::WatchGapsDigest => 2,
            _ => 1,
        }
    }

    /// The events members are told of (inbox and email), which preferences name.
    pub const FOR_MEMBERS: &'static [Event] = &[
        Event::AssignmentCreated,
        Event::AssignmentDeclined,
        Event::RequestUrgent,
        Event::RequestUpdate,
        Event::RequestAnswered,
        Event::RequestUnprayed,
        Event::RequestPrayedDigest,
        Event::WatchReminder,
        Event::WatchGapsDigest,
        Event::WatchSlotOpen,
        Event::ReplacementFilled,
        Event::ReplacementUnfilled,
        Event::FastCheckInReminder,
    ];

    /// The events a webhook may subscribe to: those of members (not invitations or digests,
    /// api.md) and the webhook-only ones. `webhook.ping` comes to any webhook on request.
    pub const FOR_WEBHOOKS: &'static [Event] = &[
        Event::AssignmentCreated,
        Event::AssignmentDeclined,
        Event::RequestUrgent,
        Event::RequestUpdate,
        Event::RequestAnswered,
        Event::RequestCreated,
        Event::PrayerLogged,
        Event::SignupCreated,
        Event::SignupCancelled,
        Event::FastCheckIn,
        Event::WebhookPing,
        Event::RequestUnprayed,
        Event::WatchReminder,
        Event::WatchSlotOpen,
        Event::ReplacementFilled,
        Event::ReplacementUnfilled,
        Event::FastCheckInReminder,
    ];
}

crate::text_enum! {
    /// How a notification reaches its recipient.
    pub enum Channel {
        /// The member's inbox in the app (`GET /me/notifications`).
        InApp => "in_app",
        /// An email to the member's address, over SMTP (`SMTP_URL`).
        Email => "email",
        /// A signed HTTP POST to a webhook an admin registered.
        Webhook => "webhook",
    }
}

crate::text_enum! {
    /// Where a delivery stands.
    pub enum DeliveryState {
        /// Waiting for its `run_at`, or for a retry.
        Pending => "pending",
        /// Claimed by a worker, under a lease.
        Sending => "sending",
        /// Delivered.
        Sent => "sent",
        /// Given up after its last retry.
        Failed => "failed",
        /// Not delivered on purpose: the recipient may no longer see what it was about.
        Dropped => "dropped",
    }
}
