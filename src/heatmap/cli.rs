//! Command-line front ends: `etprox heatmap <map> ... -o FILE.png` and
//! `etprox maps import <path>...`. `main.rs` flattens these argument structs into its
//! own subcommand enum and calls [`run`] / [`run_maps`].

use std::path::PathBuf;

use anyhow::Context;
use sqlx::PgPool;

use super::calibration::{CalibrationTable, MapAssets};
use super::density::Scale;
use super::map_import::import_maps;
use super::query::{parse_engagement, HeatmapFilter, Period, PositionKind, Team, WeaponFilter};
use super::{render_heatmap_png, HeatmapOptions, HeatmapSummary};

/// Where the calibration table and map images live.
#[derive(Debug, Clone, clap::Args)]
pub struct AssetArgs {
    /// Folder of the calibration table (maps.csv; the built-in table while it does not exist)
    /// and the command-map images (maps/<map>.png). Default: <prefix>/share/etprox/assets when
    /// installed (/usr/share/etprox/assets), else the assets/ folder of the source tree.
    #[arg(long, env = crate::assets::ASSETS_DIR_VAR, value_name = "DIR")]
    pub assets_dir: Option<PathBuf>,
}

impl AssetArgs {
    /// The assets folder: the option or setting, else the rule of [`crate::assets::resolve`].
    pub fn dir(&self) -> PathBuf {
        match &self.assets_dir {
            Some(dir) if !dir.as_os_str().is_empty() => dir.clone(),
            _ => crate::assets::assets_dir_from(None),
        }
    }

    pub fn assets(&self) -> MapAssets {
        MapAssets::in_dir(&self.dir())
    }
}

/// Render a kill heatmap of one map to a PNG file.
#[derive(Debug, Clone, clap::Args)]
pub struct HeatmapArgs {
    /// Map name, e.g. goldrush.
    pub map: String,
    /// Only this player (GUID or name): as killer with --kind kills, as victim with --kind deaths.
    #[arg(long)]
    pub player: Option<String>,
    /// Only players of this team (axis or allies).
    #[arg(long)]
    pub team: Option<Team>,
    /// kills: where killers stood; deaths: where victims fell.
    #[arg(long, default_value = "deaths")]
    pub kind: PositionKind,
    /// all, session (latest), 7d, 2026-11-20, or 2026-11-01..2026-11-20.
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
    pub fn options(&self) -> HeatmapOptions {
        let mut opts = HeatmapOptions::new(HeatmapFilter {
            map: self.map.clone(),
            player: self.player.clone(),
            team: self.team,
            kind: self.kind,
            weapon: self.weapon.clone(),
            engagement: self.engagement.clone(),
            period: self.period,
        });
        opts.size = self.size;
        opts.scale = if self.log { Scale::Log } else { Scale::Linear };
        opts.smoothing = self.smoothing;
        opts.assets = self.assets.assets();
        opts
    }
}

/// `etprox heatmap`: renders, writes the file, prints the reply text.
pub async fn run(args: &HeatmapArgs, pool: &PgPool) -> anyhow::Result<HeatmapSummary> {
    let (png, summary) = render_heatmap_png(pool, &args.options())
        .await
        .with_context(|| format!("while rendering the heatmap of {}", args.map))?;
    std::fs::write(&args.output, &png)
        .with_context(|| format!("while writing {}", args.output.display()))?;
    println!("{}", summary.message());
    println!(
        "wrote {} ({} bytes; query {:.0} ms, render {:.0} ms)",
        args.output.display(),
        png.len(),
        summary.query_ms,
        summary.render_ms
    );
    Ok(summary)
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

/// `etprox maps ...`: needs no database.
pub fn run_maps(args: &MapsArgs) -> anyhow::Result<()> {
    match &args.command {
        MapsCommand::Import { paths, assets } => {
            let report = import_maps(paths, &assets.assets()).context("while importing maps")?;
            println!("{report}");
        }
        MapsCommand::List { assets } => {
            let assets = assets.assets();
            let table = CalibrationTable::load_or_builtin(&assets.table_path)?;
            for e in table.iter() {
                let image = match assets.image_path(e) {
                    Some(p) => p.display().to_string(),
                    None => "no image".to_string(),
                };
                println!(
                    "{:<20} {} {} / {} {}  {image}",
                    e.map,
                    e.mapcoordsmins_x,
                    e.mapcoordsmins_y,
                    e.mapcoordsmaxs_x,
                    e.mapcoordsmaxs_y
                );
            }
        }
    }
    Ok(())
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
        let opts = args.options();
        assert_eq!(opts.filter.map, "goldrush");
        assert_eq!(opts.filter.team, Some(Team::Axis));
        assert_eq!(opts.filter.kind, PositionKind::Kills);
        assert_eq!(opts.filter.period, Period::LastDays(7));
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
        assert_eq!(assets.assets().maps_dir, PathBuf::from("m/maps"));
        assert_eq!(assets.assets().table_path, PathBuf::from("m/maps.csv"));
    }
}
