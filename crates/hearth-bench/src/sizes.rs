//! How big each workload is: the sizes (`full`) and a `quick` set for development.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Sizes {
    pub name: &'static str,
    /// Requests in flight during setup.
    pub setup_concurrency: usize,
    /// No timed phase runs longer than this; it stops by itself and reports what it did.
    pub phase_cap: Duration,

    pub register_users: usize,
    pub register_concurrency: usize,

    pub create_rooms: usize,
    pub create_concurrency: usize,

    /// Messages per configuration (1/10/100 senders x one room/100 rooms).
    pub send_messages: usize,

    pub fanout_receivers: usize,
    pub fanout_messages: usize,

    pub isync_rooms: usize,
    pub isync_members: usize,
    pub isync_messages: usize,
    /// Repetitions of each sync measurement.
    pub isync_reps: usize,

    pub messages_events: usize,
    pub messages_page: usize,
    pub messages_passes: usize,
    /// Filling the room stops after this (a slow server is measured on a smaller room).
    pub messages_fill_cap: Duration,

    pub big_room_members: usize,
    pub big_room_join_concurrency: usize,
    /// Joining stops after this much join time (the total is then projected from the rate).
    pub big_room_join_cap: Duration,
    pub big_room_sends: usize,
}

impl Sizes {
    /// The sizes the issue names.
    pub fn full() -> Sizes {
        Sizes {
            name: "full",
            setup_concurrency: 8,
            phase_cap: Duration::from_secs(120),
            register_users: 200,
            register_concurrency: 10,
            create_rooms: 200,
            create_concurrency: 10,
            send_messages: 1000,
            fanout_receivers: 50,
            fanout_messages: 30,
            isync_rooms: 200,
            isync_members: 20,
            isync_messages: 20,
            isync_reps: 3,
            messages_events: 10_000,
            messages_page: 100,
            messages_passes: 2,
            messages_fill_cap: Duration::from_secs(120),
            big_room_members: 10_000,
            big_room_join_concurrency: 10,
            big_room_join_cap: Duration::from_secs(120),
            big_room_sends: 100,
        }
    }

    /// Small enough that both servers finish in under 3 minutes.
    pub fn quick() -> Sizes {
        Sizes {
            name: "quick",
            phase_cap: Duration::from_secs(15),
            register_users: 30,
            create_rooms: 40,
            send_messages: 150,
            fanout_messages: 10,
            isync_rooms: 20,
            isync_members: 5,
            isync_messages: 10,
            isync_reps: 2,
            messages_events: 300,
            messages_page: 50,
            messages_passes: 1,
            messages_fill_cap: Duration::from_secs(30),
            big_room_members: 200,
            big_room_sends: 20,
            big_room_join_cap: Duration::from_secs(30),
            ..Sizes::full()
        }
    }
}
