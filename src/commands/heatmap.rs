//! `/heatmap <map> [player] [team] [kind] [weapon] [action] [period] [size]`: the PNG of
//! `etprox::heatmap`, with the options of its CLI. Kinds `presence` and `objectives` draw the
//! fight tables (`etprox::heatmap::fight`); `action` limits objectives to one play.

use super::invocation::Spelled;
use super::slash::{given, Ctx, Error, Front};
use super::{
    resolve_player, user_error, Attachment, Caller, Command, CommandError, CommandResult, Env,
    Invocation, Reply,
};
use crate::heatmap::{
    render_heatmap_png, HeatmapError, HeatmapFilter, HeatmapOptions, ObjectiveAction,
    PositionKind, Team, WeaponFilter,
};
use crate::period::Period;

/// Pixels a side; Discord offers the same bounds.
const SIZES: std::ops::RangeInclusive<u32> = 256..=2048;
const DEFAULT_SIZE: u32 = 1024;
const NO_MAP: &str = "name a map, e.g. /heatmap map:goldrush";

/// The options of `/heatmap`.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub map: String,
    /// Only this player (name, alias or key).
    pub player: Option<String>,
    /// A Discord member linked to the player, instead of `player`.
    pub member: Option<i64>,
    pub team: Option<Spelled<Team>>,
    /// Kills (where killers stood) or deaths (where victims fell, the default).
    pub kind: Option<Spelled<PositionKind>>,
    pub weapon: Option<Spelled<WeaponFilter>>,
    /// With kind objectives: only this play (steal, secure, return, plant, defuse, destroy, build).
    pub action: Option<Spelled<ObjectiveAction>>,
    /// Absent: all time.
    pub period: Option<Period>,
    pub size: u32,
}

impl Command for Heatmap {
    const NAME: &'static str = "heatmap";
    const DESCRIPTION: &'static str =
        "Heatmap of a map (PNG): kills, deaths, presence or objective plays.";

    fn from_invocation(inv: &Invocation) -> Result<Heatmap, CommandError> {
        let Some(map) = inv.text("map") else {
            return user_error(NO_MAP);
        };
        Ok(Heatmap {
            map,
            player: inv.text("player"),
            member: super::member_option(inv)?,
            team: Spelled::option(inv, "team")?,
            kind: Spelled::option(inv, "kind")?,
            weapon: Spelled::option(inv, "weapon")?,
            action: Spelled::option(inv, "action")?,
            period: inv.get("period").map(parse_period).transpose()?,
            size: inv.number(
                "size",
                SIZES,
                DEFAULT_SIZE,
                "a number of pixels from 256 to 2048",
            )?,
        })
    }

    fn to_invocation(&self) -> Invocation {
        Invocation::new(Self::NAME)
            .set("map", Some(&self.map))
            .set("player", self.player.as_ref())
            .set("member", self.member)
            .set("team", self.team.as_ref())
            .set("kind", self.kind.as_ref())
            .set("weapon", self.weapon.as_ref())
            .set("action", self.action.as_ref())
            .set("period", self.period)
            .set("size", Some(self.size))
    }

    async fn run(self, env: &Env, _caller: &Caller) -> CommandResult {
        let options = self.options(env).await?;
        render(env, options).await
    }
}

fn parse_period(text: &str) -> Result<Period, CommandError> {
    text.parse()
        .map_err(|e| CommandError::User(format!("period: {e}")))
}

/// An optional text option of the Discord handler, read like the console's.
fn spelled<T: std::str::FromStr<Err = String>>(
    key: &str,
    text: Option<String>,
) -> Result<Option<Spelled<T>>, CommandError> {
    given(text).map(|t| Spelled::parse(key, &t))
        .transpose()
}

#[poise::command(slash_command)]
#[allow(clippy::too_many_arguments)]
pub async fn slash<D: Front>(
    ctx: Ctx<'_, D>,
    #[description = "Map"]
    #[autocomplete = "super::slash::maps"]
    map: String,
    #[description = "Only this player"]
    #[autocomplete = "super::slash::players"]
    player: Option<String>,
    #[description = "Only the player this Discord member linked"] member: Option<
        poise::serenity_prelude::User,
    >,
    #[description = "axis or allies"] team: Option<String>,
    #[description = "deaths (where victims fell, default), kills, presence or objectives"]
    kind: Option<String>,
    #[description = "Weapon class (bullet, explosive, melee, fire) or weapon (mp40, panzerfaust)"]
    weapon: Option<String>,
    #[description = "With kind objectives: steal, secure, return, plant, defuse, destroy or build"]
    action: Option<String>,
    #[description = "all (default), session, 7d, a day 2026-11-20 or a range 2026-11-01..2026-11-20"]
    period: Option<String>,
    #[description = "Width and height in pixels (256 to 2048, default 1024)"]
    #[min = 256]
    #[max = 2048]
    size: Option<u32>,
) -> Result<(), Error> {
    let read = || -> Result<Heatmap, CommandError> {
        let Some(map) = given(Some(map)) else {
            return user_error(NO_MAP);
        };
        Ok(Heatmap {
            map,
            player: given(player),
            member: super::link::discord_user(member)?,
            team: spelled("team", team)?,
            kind: spelled("kind", kind)?,
            weapon: spelled("weapon", weapon)?,
            action: spelled("action", action)?,
            period: given(period)
                .map(|p| parse_period(&p))
                .transpose()?,
            size: size
                .unwrap_or(DEFAULT_SIZE)
                .clamp(*SIZES.start(), *SIZES.end()),
        })
    };
    D::answer(ctx, read()).await
}

impl Heatmap {
    /// The heatmap module's options for these.
    async fn options(&self, env: &Env) -> Result<HeatmapOptions, CommandError> {
        let player = match (self.member, &self.player) {
            (Some(user), _) => Some(super::linked_member(env, user).await?.into()),
            (None, Some(p)) => Some(resolve_player(env, p).await?.into()),
            (None, None) => None,
        };
        let mut filter = HeatmapFilter::new(self.map.trim().to_ascii_lowercase());
        filter.player = player;
        filter.team = self.team.as_ref().map(|t| t.value);
        if let Some(kind) = &self.kind {
            filter.kind = kind.value;
        }
        if let Some(action) = &self.action {
            match filter.kind {
                PositionKind::Objectives(_) => {
                    filter.kind = PositionKind::Objectives(Some(action.value));
                }
                _ => {
                    return user_error(
                        "action works with kind:objectives, e.g. /heatmap map:goldrush kind:objectives action:steal",
                    )
                }
            }
        }
        if filter.kind.is_fight() && self.weapon.is_some() {
            return user_error("weapon filters kills: use it with kind kills or deaths");
        }
        filter.weapon = self.weapon.as_ref().map(|w| w.value.clone());
        if let Some(period) = self.period {
            filter.period = period;
        }
        let mut options = HeatmapOptions::new(filter);
        options.size = self.size;
        Ok(options)
    }
}

async fn render(env: &Env, mut options: HeatmapOptions) -> CommandResult {
    options.assets = env.assets.clone();
    let (png, summary) = match render_heatmap_png(&env.pool, &env.clock, &options).await {
        Ok(done) => done,
        Err(HeatmapError::Db(e)) => return Err(e.into()),
        Err(e @ (HeatmapError::Player(_) | HeatmapError::InvalidOption(_))) => {
            return user_error(e.to_string())
        }
        Err(e) => return Err(anyhow::anyhow!("rendering the heatmap: {e}").into()),
    };
    let name = format!(
        "heatmap-{}.png",
        summary
            .map
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect::<String>()
    );
    let content = if options.filter.kind.is_fight() {
        crate::heatmap::fight::message(&summary)
    } else {
        summary.message()
    };
    Ok(Reply {
        content: Some(content),
        attachments: vec![Attachment { name, bytes: png }],
        ..Reply::default()
    })
}
