//! The test suite's fake Discord as a program, so the released binary can be run against it:
//!
//! ```sh
//! cargo run --example fake_discord -- 127.0.0.1:0     # prints the URL
//! ETPROX_DISCORD_PROXY_URL=<url> DISCORD_TOKEN=fake-token-0123456789abcdef etprox bot
//! ```
//! It logs every REST call the bot makes to stdout.

#[path = "../tests/fake_discord/mod.rs"]
mod fake_discord;

use std::time::Duration;

#[tokio::main]
async fn main() {
    let fake = fake_discord::FakeDiscord::start().await;
    println!("fake Discord at {}", fake.url);
    println!("guild id {}", fake_discord::GUILD_ID);
    let mut shown = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let calls = fake.calls();
        for c in &calls[shown..] {
            println!("{} {}", c.method, c.path);
        }
        shown = calls.len();
    }
}
