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
    }
}

crate::text_enum! {
    /// How a notification reaches its recipient.
    pub enum Channel {
        /// The member's inbox in the app (`GET /me/notifications`).
        InApp => "in_app",
        /// An email to the member's address, over SMTP (`SMTP_URL`).
        Email => "email",
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
