//! SIGTERM and SIGINT as a run's [`Stop`]: the first throws it (the run stops taking work, lets
//! its calls in flight finish, and ends `interrupted` with its manifest), a second ends the
//! waiting. Listening starts before [`stop_on_signals`] returns, on a thread of its own with
//! its own small runtime, so it covers the whole process: waiting for the lock, extracting and
//! writing the outputs alike.

use crate::extract::{Stop, StopSignal};

/// A [`Stop`] thrown by SIGTERM and SIGINT from now on, for the rest of the process.
pub(crate) fn stop_on_signals() -> std::io::Result<Stop> {
    let stop = Stop::new();
    let (ready, listening) = std::sync::mpsc::channel::<std::io::Result<()>>();
    let thrown = stop.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            runtime.block_on(listen(thrown, ready));
        })?;
    listening
        .recv()
        .map_err(|_| std::io::Error::other("the signal thread ended before listening"))??;
    Ok(stop)
}

#[cfg(unix)]
async fn listen(stop: Stop, ready: std::sync::mpsc::Sender<std::io::Result<()>>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => (term, int),
        (Err(e), _) | (_, Err(e)) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    loop {
        let signal = tokio::select! {
            _ = term.recv() => StopSignal::Terminate,
            _ = int.recv() => StopSignal::Interrupt,
        };
        // Thrown first, said after: whoever reads the line knows the run is stopping.
        stop.trigger(signal);
        tracing::warn!(
            "{signal}: stopping; calls in flight may finish (a second signal stops the waiting)"
        );
    }
}

#[cfg(not(unix))]
async fn listen(stop: Stop, ready: std::sync::mpsc::Sender<std::io::Result<()>>) {
    let _ = ready.send(Ok(()));
    while tokio::signal::ctrl_c().await.is_ok() {
        stop.trigger(StopSignal::Interrupt);
    }
}
