//! Command-line front ends: `etprox heatmap <map> ... -o FILE.png` and
//! `etprox maps import|list`. The binary flattens these argument structs into its own
//! subcommand enum, calls [`run`] / [`run_maps`] and prints what they return: nothing here
//! prints.

use std::fmt;
use std::path::PathBuf;

use anyhow::Context;
use sqlx::PgPool;

use super::calibration::CalibrationTable;
use super::density::Scale;
use super::filter::{
    parse_engagement, resolve_player, HeatmapFilter, PlayerFilter, PositionKind, Team, WeaponFilter,
};
use super::map_import::import_maps;
use super::{render_heatmap_png, HeatmapOptions, HeatmapSummary};
use crate::assets::Assets;
use crate::clock::Clock;
use crate::config::Config;
use crate::period::Period;

/// Where the calibration table and map images live, when not the configured folder.
#[derive(Debug, Clone, clap::Args)]
pub struct AssetArgs {
    /// Folder of the calibration table (maps.csv; the built-in table while it does not exist)
    /// and the command-map images (maps/<map>.png). Default: ETPROX_ASSETS_DIR, else
    /// <prefix>/share/etprox/assets when installed (/usr/share/etprox/assets), else the
    /// assets/ folder of the source tree.
    #[arg(long, value_name = "DIR")]
    pub assets_dir: Option<PathBuf>,
}

impl AssetArgs {
    /// The option's folder, else the configured one.
    pub fn assets(&self, configured: &Assets) -> Assets {
        match &self.assets_dir {
            Some(dir) if !dir.as_os_str().is_empty() => Assets::in_dir(dir),
            _ => configured.clone(),
        }
    }
}

/// Render a kill heatmap of one map to a PNG file.
#[derive(Debug, Clone, clap::Args)]
pub struct HeatmapArgs {
    /// Map name, e.g. goldrush.
    pub map: String,
    /// Only this player (GUID, name or alias): as killer with --kind kills, as victim with
    /// --kind deaths. A name several players share is refused with the candidates.
    #[arg(long)]
    pub player: Option<String>,
    /// Only players of this team (axis or allies).
    #[arg(long)]
    pub team: Option<Team>,
    /// kills: where killers stood; deaths: where victims fell.
    #[arg(long, default_value = "deaths")]
    pub kind: PositionKind,
    /// all, session (latest on this map), 7d, 2026-11-20, or 2026-11-01..2026-11-20.
    #[arg(long, default_value = "all")]
    pub period: Period,
    /// Weapon class (bullet, explosive, melee, fire) or means of death (mp40, panzerfaust).
    #[arg(long)]
    pub weapon: Option<WeaponFilter>,
    /// Engagement class: solo, outnumbering (assisted), even or outnumbered (outgunned).
    #[arg(long, value_parser = parse_engagement)]
    pub engagement: Option<String>,
    /// Output width and height in pixels.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(64..=4096))]
    pub size: u32,
    /// Logarithmic colour scale (shows quiet areas next to hotspots).
    #[arg(long)]
    pub log: bool,
    /// Smoothing radius (Gaussian sigma) in world units, 0 to 2000.
    #[arg(long, default_value_t = HeatmapOptions::DEFAULT_SMOOTHING, value_parser = parse_smoothing)]
    pub smoothing: f64,
    /// Where to write the PNG.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub assets: AssetArgs,
}

fn parse_smoothing(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=2000.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a smoothing radius from 0 to 2000 world units"
        )),
    }
}

impl HeatmapArgs {
    /// The options, with `player` already resolved (see [`resolve_player`]).
    pub fn options(&self, player: Option<PlayerFilter>, configured: &Assets) -> HeatmapOptions {
        let mut opts = HeatmapOptions::new(HeatmapFilter {
            map: self.map.clone(),
            player,
            team: self.team,
            kind: self.kind,
            weapon: self.weapon.clone(),
            engagement: self.engagement.clone(),
            period: self.period,
        });
        opts.size = self.size;
        opts.scale = if self.log { Scale::Log } else { Scale::Linear };
        opts.smoothing = self.smoothing;
        opts.assets = self.assets.assets(configured);
        opts
    }
}

/// What `etprox heatmap` did: the reply text, the file written and the timings.
#[derive(Debug, Clone)]
pub struct HeatmapReport {
    pub summary: HeatmapSummary,
    pub output: PathBuf,
}

impl fmt::Display for HeatmapReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.summary;
        writeln!(f, "{}", s.message())?;
        write!(
            f,
            "wrote {} ({} bytes; query {:.0} ms, render {:.0} ms)",
            self.output.display(),
            s.png_bytes,
            s.query_ms,
            s.render_ms
        )
    }
}

/// `etprox heatmap`: resolves the player, renders with the configured session clock and
/// assets, writes the file; returns what to print.
pub async fn run(
    args: &HeatmapArgs,
    pool: &PgPool,
    config: &Config,
) -> anyhow::Result<HeatmapReport> {
    let player = match &args.player {
        Some(text) => Some(resolve_player(pool, text).await?),
        None => None,
    };
    let clock = Clock::system(config.session);
    let (png, summary) = render_heatmap_png(pool, &clock, &args.options(player, &config.assets))
        .await
        .with_context(|| format!("while rendering the heatmap of {}", args.map))?;
    std::fs::write(&args.output, &png)
        .with_context(|| format!("while writing {}", args.output.display()))?;
    Ok(HeatmapReport {
        summary,
        output: args.output.clone(),
    })
}

/// Manage map calibration and command-map images.
#[derive(Debug, Clone, clap::Args)]
pub struct MapsArgs {
    #[command(subcommand)]
    pub command: MapsCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum MapsCommand {
    /// Read map boxes and command-map images from an etmain/legacy folder, .pk3 files or loose files.
    Import {
        /// Folders, .pk3 files, .bsp/.ent files or levelshots images.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        assets: AssetArgs,
    },
    /// List the calibrated maps and whether each has an image.
    List {
        #[command(flatten)]
        assets: AssetArgs,
    },
}

/// `etprox maps ...`: needs no database. Returns what to print.
pub fn run_maps(args: &MapsArgs, configured: &Assets) -> anyhow::Result<String> {
    match &args.command {
        MapsCommand::Import { paths, assets } => {
            let report =
                import_maps(paths, &assets.assets(configured)).context("while importing maps")?;
            Ok(report.to_string())
        }
        MapsCommand::List { assets } => {
            let assets = assets.assets(configured);
            Ok(list_maps(&assets.load_table()?, &assets))
        }
    }
}

/// One line per calibrated map: its box and its image (or "no image").
fn list_maps(table: &CalibrationTable, assets: &Assets) -> String {
    let lines: Vec<String> = table
        .iter()
        .map(|e| {
            let image = match assets.image_path(e) {
                Some(p) => p.display().to_string(),
                None => "no image".to_string(),
            };
            format!(
                "{:<20} {} {} / {} {}  {image}",
                e.map, e.mapcoordsmins_x, e.mapcoordsmins_y, e.mapcoordsmaxs_x, e.mapcoordsmaxs_y
            )
        })
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Command {
        Heatmap(HeatmapArgs),
        Maps(MapsArgs),
    }

    #[test]
    fn heatmap_arguments_parse() {
        let cli = Cli::try_parse_from([
            "etprox",
            "heatmap",
            "goldrush",
            "--player",
            "Alice",
            "--team",
            "axis",
            "--kind",
            "kills",
            "--period",
            "7d",
            "--weapon",
            "mp40",
            "--engagement",
            "assisted",
            "--size",
            "512",
            "--log",
            "-o",
            "out.png",
        ])
        .expect("parse");
        let Command::Heatmap(args) = cli.command else {
            panic!("heatmap expected");
        };
        let opts = args.options(None, &Assets::in_dir("configured"));
        assert_eq!(opts.filter.map, "goldrush");
        assert_eq!(opts.filter.team, Some(Team::Axis));
        assert_eq!(opts.filter.kind, PositionKind::Kills);
        assert_eq!(opts.filter.period, Period::LastDays(7));
        assert_eq!(opts.assets, Assets::in_dir("configured"), "no --assets-dir");
        assert_eq!(
            args.player.as_deref(),
            Some("Alice"),
            "resolved by run, not here"
        );
        assert_eq!(opts.filter.weapon.map(|w| w.mods), Some(vec![8]));
        assert_eq!(opts.filter.engagement.as_deref(), Some("outnumbering"));
        assert_eq!(opts.size, 512);
        assert_eq!(opts.scale, Scale::Log);
    }

    #[test]
    fn bad_arguments_are_refused_with_the_reason() {
        let err = Cli::try_parse_from([
            "etprox", "heatmap", "goldrush", "--team", "red", "-o", "x.png",
        ])
        .expect_err("bad team");
        assert!(err.to_string().contains("use axis or allies"), "{err}");
        let err = Cli::try_parse_from([
            "etprox", "heatmap", "goldrush", "--size", "10", "-o", "x.png",
        ])
        .expect_err("bad size");
        assert!(err.to_string().contains("10"), "{err}");
        assert!(
            Cli::try_parse_from(["etprox", "maps", "import"]).is_err(),
            "paths required"
        );
        let err = Cli::try_parse_from([
            "etprox",
            "heatmap",
            "goldrush",
            "--smoothing",
            "1e9",
            "-o",
            "x.png",
        ])
        .expect_err("too much smoothing");
        assert!(err.to_string().contains("0 to 2000"), "{err}");
    }

    #[test]
    fn maps_import_parses() {
        let cli = Cli::try_parse_from([
            "etprox",
            "maps",
            "import",
            "/et/etmain",
            "x.pk3",
            "--assets-dir",
            "m",
        ])
        .expect("parse");
        let Command::Maps(MapsArgs {
            command: MapsCommand::Import { paths, assets },
        }) = cli.command
        else {
            panic!("maps import expected");
        };
        assert_eq!(paths.len(), 2);
        let chosen = assets.assets(&Assets::in_dir("configured"));
        assert_eq!(chosen.maps_dir(), PathBuf::from("m/maps"));
        assert_eq!(chosen.table_path(), PathBuf::from("m/maps.csv"));
    }
}
