using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace Ujumbe.Shared.Redis;

/// <summary>
/// One command awaiting its reply: the <see cref="IValueTaskSource{TResult}"/> behind the caller's
/// <see cref="ValueTask{TResult}"/>, reused from a pool so a command costs no task allocation.
/// </summary>
/// <remarks>
/// Two owners hold it: the connection's pending queue (until the reply is read, or the connection fails) and
/// the caller (until it has read the result). It goes back to the pool when both have released it, so a late
/// reply to a command that already timed out can never complete someone else's command. It is completed
/// exactly once: by the reply, the timeout, the caller's cancellation or the connection's failure, whichever
/// comes first. Continuations never run on the connection's reader thread: they are queued to the thread pool,
/// and a continuation that must run on a SynchronizationContext or TaskScheduler is handed to it from there.
/// </remarks>
internal sealed class RedisOperation : IValueTaskSource<RedisValue>
{
    private const int MaxPooled = 1024;
    private static readonly ConcurrentQueue<RedisOperation> Pool = new();
    private static int _pooled;

    private ManualResetValueTaskSourceCore<RedisValue> _core = new() { RunContinuationsAsynchronously = true };
    private int _completed;
    private int _owners;
    private CancellationTokenRegistration _cancellation;

    /// <summary><see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> when queued, for the timeout.</summary>
    public long QueuedAt { get; set; }

    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    public static RedisOperation Rent()
    {
        if (Pool.TryDequeue(out var operation))
        {
            Interlocked.Decrement(ref _pooled);
        }
        else
        {
            operation = new RedisOperation();
        }
        operation._completed = 0;
        operation._owners = 2;
        return operation;
    }

    public ValueTask<RedisValue> Task => new(this, _core.Version);

    /// <summary>Completes the caller's task if the command is cancelled first. Call once, after queueing.</summary>
    public void CancelWhen(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(
                static (state, token) => ((RedisOperation)state!).TrySetException(new OperationCanceledException(token)),
                this);
        }
    }

    public bool TrySetResult(RedisValue value)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }
        _core.SetResult(value);
        return true;
    }


    public bool TrySetException(Exception error)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }
        _core.SetException(error);
        return true;
    }

    /// <summary>The connection's queue is done with it (reply read, or the connection failed it).</summary>
    public void ReleaseFromQueue() => Release();

    /// <summary>For a command that was never queued: fails it and drops the queue's ownership.</summary>
    public ValueTask<RedisValue> FailUnqueued(Exception error)
    {
        TrySetException(error);
        var task = Task;
        Release();
        return task;
    }

    public RedisValue GetResult(short token)
    {
        if (token != _core.Version)
        {
            throw new InvalidOperationException("A Redis command's ValueTask was awaited twice.");
        }
        // Waits for a cancellation callback that lost the race to finish, so it cannot touch a reused instance.
        _cancellation.Dispose();
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Release();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0 && CurrentScheduler() is { } scheduler)
        {
            // The awaiter wants its SynchronizationContext or TaskScheduler. Completing would call into it from
            // the connection's reader thread, and a foreign Post may be slow or block (xunit's does under load),
            // stalling every reply behind it. So the thread pool runs this step, and it posts to the context.
            _core.OnCompleted(static state => ((ScheduledContinuation)state!).Dispatch(),
                new ScheduledContinuation(scheduler, continuation, state), token, flags & ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext);
            return;
        }
        _core.OnCompleted(continuation, state, token, flags);
    }

    private static object? CurrentScheduler()
    {
        if (SynchronizationContext.Current is { } context && context.GetType() != typeof(SynchronizationContext))
        {
            return context;
        }
        return TaskScheduler.Current != TaskScheduler.Default ? TaskScheduler.Current : null;
    }

    /// <summary>A continuation to run on the awaiter's own context, handed over from a thread-pool thread.</summary>
    private sealed class ScheduledContinuation(object scheduler, Action<object?> continuation, object? state)
    {
        public void Dispatch()
        {
            if (scheduler is SynchronizationContext context)
            {
                context.Post(static self => ((ScheduledContinuation)self!).Run(), this);
            }
            else
            {
                System.Threading.Tasks.Task.Factory.StartNew(static self => ((ScheduledContinuation)self!).Run(), this,
                    CancellationToken.None, TaskCreationOptions.DenyChildAttach, (TaskScheduler)scheduler);
            }
        }

        private void Run() => continuation(state);
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _owners) != 0)
        {
            return;
        }
        _cancellation = default;
        _core.Reset();
        if (Interlocked.Increment(ref _pooled) <= MaxPooled)
        {
            Pool.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }
    }
}
