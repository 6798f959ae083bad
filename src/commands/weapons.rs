//! `/weapons [player|member] [period] [by]`: weapons ranked by kills, accuracy or damage, for
//! one player or everyone.

use poise::serenity_prelude as serenity;

use super::link::discord_user;
use super::reply::colour;
use super::slash::{given, period_or, Ctx, Error, Front, PeriodChoice};
use super::text;
use super::{
    linked_member, member_option, resolve_player, Caller, Command, CommandError, CommandResult,
    Embed, Env, Invocation, Reply,
};
use crate::db::fight_stats::{self, WeaponFight};
use crate::period::Period;

/// Weapons shown.
const SHOWN: usize = 15;

/// What the weapons are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, poise::ChoiceParameter)]
pub enum Order {
    #[default]
    #[name = "kills"]
    Kills,
    #[name = "accuracy"]
    Accuracy,
    #[name = "damage"]
    Damage,
}

impl Order {
    pub fn key(self) -> &'static str {
        match self {
            Order::Kills => "kills",
            Order::Accuracy => "accuracy",
            Order::Damage => "damage",
        }
    }

    pub fn parse(text: &str) -> Result<Order, CommandError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "kills" => Ok(Order::Kills),
            "accuracy" | "acc" => Ok(Order::Accuracy),
            "damage" | "dmg" => Ok(Order::Damage),
            other => Err(CommandError::User(format!(
                "by: unknown order `{other}`: use kills, accuracy or damage"
            ))),
        }
    }
}

/// The options of `/weapons`.
#[derive(Debug, Clone, PartialEq)]
pub struct Weapons {
    /// Name, alias or key; absent: every player together.
    pub player: Option<String>,
    /// A Discord member linked to the player, instead of `player`.
    pub member: Option<i64>,
    /// Absent: all time.
    pub period: Period,
    pub by: Order,
}

impl Command for Weapons {
    const NAME: &'static str = "weapons";
    const DESCRIPTION: &'static str =
        "Weapons ranked by kills, accuracy or damage, for one player or everyone.";

    fn from_invocation(inv: &Invocation) -> Result<Weapons, CommandError> {
        Ok(Weapons {
            player: inv.text("player"),
            member: member_option(inv)?,
            period: inv.period(Period::All)?,
            by: inv.get("by").map(Order::parse).transpose()?.unwrap_or_default(),
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("player", self.player.as_ref())
            .set("member", self.member)
            .set("period", Some(self.period))
            .set("by", (self.by != Order::Kills).then_some(self.by.key()))
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        let player = match (self.member, &self.player) {
            (Some(user), _) => Some(linked_member(env, user).await?),
            (None, Some(text)) => Some(resolve_player(env, text).await?),
            (None, None) => None,
        };
        let order = self.by;
        let range = super::range(env, self.period).await?;
        let guid = player.as_ref().map(|p| p.guid.as_str());
        let mut weapons = fight_stats::weapons(&env.pool, guid, range.from, range.to).await?;
        let whose = player
            .as_ref()
            .map_or_else(|| "everyone".to_owned(), |p| text::name(&p.name));
        if weapons.is_empty() {
            return Ok(Reply::text(format!(
                "No weapon was used by {whose} in {}.",
                range.label
            )));
        }
        rank(&mut weapons, order);
        let rows: Vec<Vec<String>> = weapons
            .iter()
            .take(SHOWN)
            .enumerate()
            .map(|(i, w)| {
                vec![
                    format!("{:>2}. {}", i + 1, text::clip(&text::weapon(w.weapon), 18)),
                    w.kills.to_string(),
                    share(w.accuracy()),
                    share(w.headshot_share()),
                    w.damage.to_string(),
                ]
            })
            .collect();
        let mut footer = format!(
            "{} · ranked by {} · accuracy = hits on enemies / shots fired, bullet weapons · /help accuracy",
            range.label,
            order.key()
        );
        if weapons.len() > SHOWN {
            footer = format!("top {SHOWN} of {} weapons · {footer}", weapons.len());
        }
        let embed = Embed::new(format!("Weapons · {whose}"), colour::INFO)
            .description(text::table(
                &["weapon", "kills", "acc", "hs", "damage"],
                &rows,
            ))
            .footer(footer);
        Ok(Reply::embed(embed))
    }
}

/// Best first by `order`; weapons without shots rank last by accuracy; ties by kills, then
/// damage, then weapon number, so the order never depends on the rows' order.
fn rank(weapons: &mut [WeaponFight], order: Order) {
    weapons.sort_by(|a, b| {
        let first = match order {
            Order::Kills => b.kills.cmp(&a.kills),
            Order::Damage => b.damage.cmp(&a.damage),
            Order::Accuracy => {
                let (x, y) = (a.accuracy().unwrap_or(-1.0), b.accuracy().unwrap_or(-1.0));
                y.total_cmp(&x)
            }
        };
        first
            .then(b.kills.cmp(&a.kills))
            .then(b.damage.cmp(&a.damage))
            .then(a.weapon.cmp(&b.weapon))
    });
}

#[poise::command(slash_command)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Player (name, alias or GUID); default: everyone"]
    #[autocomplete = "super::slash::players"]
    player: Option<String>,
    #[description = "A Discord member linked to a player, instead of player"] member: Option<
        serenity::User,
    >,
    #[description = "Time window (default all time)"] period: Option<PeriodChoice>,
    #[description = "Rank by kills (default), accuracy or damage"] by: Option<Order>,
) -> Result<(), Error> {
    let weapons = discord_user(member).map(|member| Weapons {
        player: given(player),
        member,
        period: period_or(period, Period::All),
        by: by.unwrap_or_default(),
    });
    D::answer(ctx, weapons).await
}

/// A share as a percentage with one decimal, or `-` where it has no meaning.
fn share(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |v| format!("{:.1}%", 100.0 * v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(weapon: i16, kills: i64, shots: i64, hits: i64, damage: i64) -> WeaponFight {
        WeaponFight {
            weapon,
            kills,
            shots,
            hits,
            headshots: 0,
            damage,
        }
    }

    #[test]
    fn ranks_by_the_chosen_order_and_never_by_row_order() {
        let mut a = vec![w(3, 10, 100, 20, 900), w(8, 12, 50, 25, 800), w(15, 4, 0, 0, 1500)];
        rank(&mut a, Order::Kills);
        assert_eq!(a.iter().map(|w| w.weapon).collect::<Vec<_>>(), [8, 3, 15]);
        rank(&mut a, Order::Accuracy);
        assert_eq!(a.iter().map(|w| w.weapon).collect::<Vec<_>>(), [8, 3, 15]);
        rank(&mut a, Order::Damage);
        assert_eq!(a.iter().map(|w| w.weapon).collect::<Vec<_>>(), [15, 3, 8]);
        let mut b = a.clone();
        b.reverse();
        rank(&mut b, Order::Damage);
        assert_eq!(a, b);
    }

    #[test]
    fn orders_parse() {
        assert_eq!(Order::parse("Accuracy").ok(), Some(Order::Accuracy));
        assert!(Order::parse("speed").is_err());
    }
}
