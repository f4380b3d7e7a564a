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
diesel::allow_tables_to_appear_in_same_query!(members, refresh_tokens);
