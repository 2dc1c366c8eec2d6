//! The examples each subcommand's `--help` ends with: the commands a new user types first.

pub(super) const EXAMPLES: &str = "\
Examples:
  asyncstudy io --runtime tokio-mt
  asyncstudy io --runtime threads --workers 16 --tasks 16
  asyncstudy cpu --runtime rayon --workers 4 --workload comp
  asyncstudy cpu --runtime tokio-ct --format markdown
  asyncstudy cpu --runtime process-pool --workers 2 --tasks 8
  asyncstudy runtimes";

pub(super) const IO_EXAMPLES: &str = "\
Examples:
  asyncstudy io --runtime tokio-mt
  asyncstudy io --runtime threads --workers 8 --writes 50
  asyncstudy io --runtime smol --tasks 1000 --latency 100ms --page-size 16KiB
  asyncstudy io --runtime tokio-mt --error-rate 0.1 --reset-rate 0.05 --timeout 2s
  asyncstudy io --runtime threads --urls urls.txt          # real pages: needs the internet
  asyncstudy io --runtime smol --tls --connections reuse   # https, kept connections
  asyncstudy io --runtime tokio-mt --server http://10.0.0.2:8080   # a serve on another host
  asyncstudy io --runtime threads --client-cpus 1 --server-cpus 0
  asyncstudy io --runtime tokio-ct --workload sleep --tasks 100 --sleep 1s
  asyncstudy io --runtime tokio-mt --workload sleep --blocking --tasks 8";

pub(super) const MIXED_EXAMPLES: &str = "\
Examples:
  asyncstudy mixed --runtime tokio-mt                  # CPU inline in async tasks
  asyncstudy mixed --runtime tokio-blocking            # CPU in spawn_blocking
  asyncstudy mixed --runtime tokio+rayon               # CPU on a rayon pool beside tokio
  asyncstudy mixed --runtime threads --workers 16      # everything on OS threads
  asyncstudy mixed --runtime smol --io download --tasks 50 --cpu-tasks 8
  asyncstudy mixed --runtime tokio-mt --rate 200/s     # IO and CPU tasks arriving over time
  asyncstudy compare mixed --runtimes tokio-mt,tokio-ct,smol,async-std,tokio-blocking,tokio+rayon,threads,process-pool

--tasks counts the IO tasks, --cpu-tasks the CPU tasks; the two kinds are interleaved
evenly and submitted together. The IO tasks' latency is the headline: where the CPU work
runs decides how long IO tasks wait for a thread that is busy computing.";

pub(super) const SERVE_EXAMPLES: &str = "\
Examples:
  asyncstudy serve --latency 50ms --page-size 64KiB
  asyncstudy serve --bind 127.0.0.1:8080 --latency-dist lognormal --error-rate 0.05
  asyncstudy serve --bind 0.0.0.0:8443 --tls --cert-out cert.pem --cert-name bench.example
  sleep infinity | asyncstudy serve &      # keep stdin open to run it in the background";

pub(super) const CPU_EXAMPLES: &str = "\
Examples:
  asyncstudy cpu --runtime tokio-mt
  asyncstudy cpu --runtime rayon --workers 4 --workload comp --repeat 5
  asyncstudy cpu --runtime serial --tasks 8 --output serial.json
  asyncstudy cpu --runtime threads --tasks 8 --baseline serial.json --format markdown
  asyncstudy cpu --runtime smol --workload noop --tasks 100000
  asyncstudy cpu --runtime process-per-task --workload noop --tasks 200";

pub(super) const COMPARE_EXAMPLES: &str = "\
Examples:
  asyncstudy compare cpu --runtimes serial,threads,rayon,tokio-mt --workers 1,2,4
  asyncstudy compare io --runtimes all --workers 1,2,4,8 --output results.json
  asyncstudy compare io --runtimes serial,threads,tokio-mt --workers 2,4,8,16 --writes 50
  asyncstudy compare io --runtimes tokio-mt,smol,threads --tls --connections new,reuse --writes 1
  asyncstudy compare sleep --runtimes threads,tokio-mt,smol --tasks 100,1000 --sleep 100ms
  asyncstudy compare cpu --runtimes threads,process-pool --repeat 5 --format markdown
  asyncstudy compare sleep --scale --runtimes tokio-mt,smol,thread-per-task,process-per-task --tasks 100,1000,10000,100000 --sleep 1s --plots img

Every cell (runtime x workers x tasks) and repeat runs in a fresh asyncstudy process;
repeats are interleaved across cells. serial runs once per task count and is every
worker count's baseline. A cell is noisy (~) when its runs' wall times spread by more
than 20% of their median; a winner whose range overlaps the runner-up's is a tie.

--scale (sleep and io) puts every task in flight at once: async runtimes get
--concurrency = tasks on their --workers threads, thread-per-task and process-per-task
get --workers = tasks. The table adds memory per unit, spawn time per unit and makespan
over the ideal; a cell over --max-threads or --max-processes is skipped with a message.";

pub(super) const RUNTIMES_EXAMPLES: &str = "\
Examples:
  asyncstudy runtimes
  asyncstudy runtimes --format markdown
  asyncstudy runtimes --format json --output runtimes.json";

pub(super) const REPORT_EXAMPLES: &str = "\
Examples:
  asyncstudy report results.json
  asyncstudy report results.json --format markdown --plots docs/img
  asyncstudy report run.json --hdr hdr/     # HdrHistogram interval logs";

pub(super) const STUDY_EXAMPLES: &str = "\
Examples:
  asyncstudy study               # writes docs/STUDY.md and docs/img/*.svg
  asyncstudy study --out /tmp/study";

pub(super) const CLEAN_EXAMPLES: &str = "\
Examples:
  asyncstudy clean --dry-run     # list the stale temporary out-dirs in $TMPDIR
  asyncstudy clean               # remove those whose run is provably dead

A run's temporary out-dir names its owner (pid and start time); a directory without that
marker, or whose owner is alive, is left alone.";

pub(super) const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  asyncstudy completions bash > ~/.local/share/bash-completion/completions/asyncstudy
  asyncstudy completions zsh > ~/.zfunc/_asyncstudy
  asyncstudy completions fish > ~/.config/fish/completions/asyncstudy.fish";
