using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Ujumbe.Shared.Redis;

/// <summary>
/// One socket to the server, shared by every caller, pipelined. It lives once: when it breaks it fails what
/// is pending and is replaced by a new one (<see cref="RedisConnector"/>), never reopened.
/// </summary>
/// <remarks>
/// <para>Writing: a caller encodes its command straight into an in-memory <see cref="Pipe"/> (pooled segments)
/// and appends its operation to the pending queue, both under one short lock, so the order of bytes and the
/// order of operations always agree, then wakes the writer. The writer thread sends whatever has accumulated
/// since its last send in one gathered socket write; while a send is in flight, new commands pile up behind
/// it and go together.</para>
/// <para>Reading: the reader thread receives into a pooled buffer, parses replies and completes the pending
/// operations in FIFO order (their continuations run on the thread pool). In subscriber mode, pushed
/// <c>message</c> arrays go to the message callback instead.</para>
/// <para>Both loops run on dedicated background threads, not the thread pool: when the pool is starved
/// (a burst of blocking work elsewhere in the process), replies are still read and matched on time instead
/// of sitting in the socket until the command timeout fires.</para>
/// <para>Timeouts: a timer fails operations older than the command timeout; they stay queued (their replies
/// are still due, in order) and their late replies are dropped. If the oldest unanswered command has waited
/// longer than the stalled-connection timeout, the connection is declared dead.</para>
/// </remarks>
internal sealed class RedisConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly RedisOptions _options;
    private readonly Action<RedisMessage>? _onMessage;
    private readonly Pipe _output = new(new PipeOptions(
        pauseWriterThreshold: 0, // never block a caller holding the lock; MaxPendingCommands bounds the queue
        minimumSegmentSize: 16 * 1024,
        useSynchronizationContext: false));
    // Never disposed: a caller may still Set it just after the connection closed. It holds no kernel
    // handle unless its WaitHandle is asked for, which nothing does.
    private readonly ManualResetEventSlim _wakeWriter = new(false);
    private readonly Lock _lock = new();
    private readonly PendingQueue _pending = new();
    private readonly long _timeoutTicks;
    private readonly long _stalledTicks;
    private readonly Timer _sweeper;
    private readonly TaskCompletionSource<Exception> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failure;
    private int _runningLoops = 2;
    private int _sweepFrom; // pending[0.._sweepFrom) already timed out, still awaiting their replies
    private long _lastReceived; // Stopwatch timestamps, for the timeout message
    private long _lastSent;
    private int _sending; // 1 while the writer is inside a socket send

    private const int ReceiveBufferSize = 64 * 1024;

    private RedisConnection(Socket socket, RedisOptions options, Action<RedisMessage>? onMessage)
    {
        _socket = socket;
        _options = options;
        _onMessage = onMessage;
        _timeoutTicks = ToStopwatchTicks(options.CommandTimeout);
        _stalledTicks = ToStopwatchTicks(options.EffectiveStalledConnectionTimeout);
        var period = TimeSpan.FromTicks(Math.Clamp(options.CommandTimeout.Ticks / 8, TimeSpan.TicksPerMillisecond * 5, TimeSpan.TicksPerMillisecond * 250));
        // The loops and the timer outlive whoever opened the connection: they must not carry its
        // ExecutionContext (a request's Activity, AsyncLocals) for the connection's lifetime.
        using (ExecutionContext.SuppressFlow())
        {
            _sweeper = new Timer(static state => ((RedisConnection)state!).Sweep(), this, period, period);
        }
        new Thread(ReadLoop) { IsBackground = true, Name = "Redis reader " + options.Endpoint }.UnsafeStart();
        new Thread(WriteLoop) { IsBackground = true, Name = "Redis writer " + options.Endpoint }.UnsafeStart();
    }

    public string Endpoint => _options.Endpoint;

    public bool IsOpen => Volatile.Read(ref _failure) is null;

    /// <summary>Completes, with the reason, once the connection has failed and both loops have stopped.</summary>
    public Task<Exception> Completion => _closed.Task;

    /// <summary>Opens a socket and runs the handshake: AUTH, SELECT, CLIENT SETNAME as configured, then PING.</summary>
    /// <param name="onMessage">Subscriber mode: called on the reader thread for each pushed message; may block (back-pressure).</param>
    public static async Task<RedisConnection> ConnectAsync(RedisOptions options, Action<RedisMessage>? onMessage, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        RedisConnection? connection = null;
        try
        {
            EnableKeepAlive(socket);
            await socket.ConnectAsync(options.Host, options.Port, timeout.Token);
            connection = new RedisConnection(socket, options, onMessage);
            await connection.HandshakeAsync(timeout.Token);
            return connection;
        }
        catch (Exception error)
        {
            var reason = error switch
            {
                OperationCanceledException when !cancellationToken.IsCancellationRequested => new RedisConnectionException(
                    $"Could not connect to Redis at {options.Endpoint} within {(long)options.ConnectTimeout.TotalMilliseconds} ms."),
                SocketException socketError => new RedisConnectionException(
                    $"Could not connect to Redis at {options.Endpoint}: {socketError.Message}", socketError),
                _ => error,
            };
            if (connection is null)
            {
                socket.Dispose();
            }
            else
            {
                connection.Fail(reason);
                await connection.Completion;
            }
            if (ReferenceEquals(reason, error))
            {
                throw;
            }
            throw reason;
        }
    }

    /// <summary>
    /// Queues one command. Never blocks and never throws for connection problems: a broken connection or a
    /// full queue yields a faulted task at once.
    /// </summary>
    public ValueTask<RedisValue> ExecuteAsync(string command, ReadOnlySpan<RedisArgument> arguments, CancellationToken cancellationToken)
    {
        RespWriter.Validate(command, arguments);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<RedisValue>(cancellationToken);
        }
        var operation = RedisOperation.Rent();
        lock (_lock)
        {
            operation.QueuedAt = Stopwatch.GetTimestamp(); // under the lock: queue order is time order, for the sweep
            if (_failure is { } failure)
            {
                return operation.FailUnqueued(new RedisConnectionException($"The connection to Redis at {Endpoint} is closed: {failure.Message}", failure));
            }
            if (_pending.Count >= _options.MaxPendingCommands)
            {
                return operation.FailUnqueued(new RedisConnectionException(
                    $"{_pending.Count} commands are already waiting for Redis at {Endpoint}; refusing more until it catches up."));
            }
            RespWriter.WriteCommand(_output.Writer, command, arguments);
            _pending.Enqueue(operation);
            // The pipe never applies back-pressure (pauseWriterThreshold 0), so this completes synchronously;
            // it makes the bytes visible to the writer thread's TryRead.
            var flush = _output.Writer.FlushAsync(CancellationToken.None);
            Debug.Assert(flush.IsCompleted, "an unbounded pipe flushes synchronously");
            if (flush.IsCompleted)
            {
                _ = flush.Result;
            }
            else
            {
                _ = flush.AsTask();
            }
        }
        _wakeWriter.Set(); // cheap while the writer is busy sending: only a sleeping writer needs waking
        operation.CancelWhen(cancellationToken);
        return operation.Task;
    }

    /// <summary>Closes the connection (idempotent); pending commands fail with <see cref="RedisConnectionException"/>.</summary>
    public void Fail(Exception reason)
    {
        List<RedisOperation>? abandoned = null;
        lock (_lock)
        {
            if (_failure is not null)
            {
                return;
            }
            _failure = reason;
            if (_pending.Count > 0)
            {
                abandoned = new List<RedisOperation>(_pending.Count);
                while (_pending.TryDequeue(out var operation))
                {
                    abandoned.Add(operation);
                }
            }
            _output.Writer.Complete();
        }
        _wakeWriter.Set(); // the writer sees the completed pipe and stops
        _sweeper.Dispose();
        if (abandoned is not null)
        {
            foreach (var operation in abandoned)
            {
                if (!operation.IsCompleted)
                {
                    operation.TrySetException(new RedisConnectionException(
                        $"The connection to Redis at {Endpoint} closed before the reply arrived: {reason.Message}", reason));
                }
                operation.ReleaseFromQueue();
            }
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // already reset by the peer
        }
        _socket.Dispose();
    }

    /// <summary>Closes the connection (as <see cref="Fail"/>).</summary>
    public void Dispose() => Fail(new ObjectDisposedException(nameof(RedisConnection)));

    /// <summary>Each loop calls this last; both have failed the connection (or seen it failed) before.</summary>
    private void LoopStopped()
    {
        if (Interlocked.Decrement(ref _runningLoops) == 0)
        {
            lock (_lock)
            {
                _closed.TrySetResult(_failure!);
            }
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var options = _options;
        if (options.Password is { } password)
        {
            await StepAsync("AUTH", options.User is { } user ? ExecuteAsync("AUTH", [user, password], cancellationToken) : ExecuteAsync("AUTH", [password], cancellationToken),
                error => $"Redis at {Endpoint} refused the credentials{(options.User is null ? "" : $" of user '{options.User}'")}: {error.Message}");
        }
        if (options.DefaultDatabase != 0)
        {
            await StepAsync("SELECT", ExecuteAsync("SELECT", [options.DefaultDatabase], cancellationToken),
                error => $"Redis at {Endpoint} cannot select database {options.DefaultDatabase}: {error.Message}");
        }
        if (options.ClientName is { } name)
        {
            await StepAsync("CLIENT SETNAME", ExecuteAsync("CLIENT", ["SETNAME", name], cancellationToken),
                error => $"Redis at {Endpoint} refused the client name '{name}': {error.Message}");
        }
        await StepAsync("PING", ExecuteAsync("PING", [], cancellationToken), error => error.ErrorCode == "NOAUTH"
            ? $"Redis at {Endpoint} requires authentication; add password=… (and user=… for an ACL user) to the connection string: {error.Message}"
            : $"Redis at {Endpoint} did not answer PING: {error.Message}");
    }

    private async Task StepAsync(string step, ValueTask<RedisValue> reply, Func<RedisServerException, string> describe)
    {
        try
        {
            await reply;
        }
        catch (RedisServerException error)
        {
            throw new RedisConnectionException(describe(error), error);
        }
        catch (RedisTimeoutException error)
        {
            throw new RedisConnectionException($"Redis at {Endpoint} accepted the connection but did not answer {step}: {error.Message}", error);
        }
    }

    private void WriteLoop()
    {
        var reader = _output.Reader;
        var segments = new List<ArraySegment<byte>>();
        try
        {
            while (true)
            {
                _wakeWriter.Wait();
                _wakeWriter.Reset(); // before draining: a command queued after this point sets it again
                while (reader.TryRead(out var result))
                {
                    var buffer = result.Buffer;
                    if (!buffer.IsEmpty)
                    {
                        Volatile.Write(ref _sending, 1);
                        Send(buffer, segments);
                        Volatile.Write(ref _sending, 0);
                        Volatile.Write(ref _lastSent, Stopwatch.GetTimestamp());
                    }
                    reader.AdvanceTo(buffer.End);
                    if (result.IsCompleted)
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception error)
        {
            Fail(new RedisConnectionException($"Lost the connection to Redis at {Endpoint} while sending: {error.Message}", error));
        }
        finally
        {
            reader.Complete();
            LoopStopped();
        }
    }

    /// <summary>Sends everything queued in one gathered write (the pipe's segments are pooled arrays).</summary>
    private void Send(ReadOnlySequence<byte> buffer, List<ArraySegment<byte>> segments)
    {
        if (!buffer.IsSingleSegment)
        {
            segments.Clear();
            foreach (var memory in buffer)
            {
                if (!MemoryMarshal.TryGetArray(memory, out var segment))
                {
                    segments.Clear();
                    break;
                }
                segments.Add(segment);
            }
            if (segments.Count > 0)
            {
                var sent = _socket.Send(segments, SocketFlags.None);
                buffer = buffer.Slice(sent); // normally everything; the rest piece by piece otherwise
            }
        }
        foreach (var memory in buffer)
        {
            var span = memory.Span;
            while (!span.IsEmpty)
            {
                span = span[_socket.Send(span, SocketFlags.None)..];
            }
        }
    }

    private void ReadLoop()
    {
        Exception? reason = null;
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        int start = 0, end = 0; // unparsed bytes: buffer[start..end)
        try
        {
            while (IsOpen)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        buffer.AsSpan(start, end - start).CopyTo(buffer);
                    }
                    else
                    {
                        // one reply larger than the buffer: grow it
                        var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, end).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    end -= start;
                    start = 0;
                }
                var received = _socket.Receive(buffer.AsSpan(end), SocketFlags.None);
                if (received == 0)
                {
                    reason = new RedisConnectionException($"Redis at {Endpoint} closed the connection.");
                    break;
                }
                end += received;
                Volatile.Write(ref _lastReceived, Stopwatch.GetTimestamp());
                var unparsed = new ReadOnlySequence<byte>(buffer, start, end - start);
                while (RespReader.TryRead(ref unparsed, out var reply))
                {
                    if (_onMessage is not null && IsPush(reply, out var message))
                    {
                        if (message is { } delivered)
                        {
                            _onMessage(delivered);
                        }
                    }
                    else if (!Complete(reply))
                    {
                        break; // closed meanwhile
                    }
                }
                start = end - (int)unparsed.Length;
                if (start == end)
                {
                    start = end = 0;
                    if (buffer.Length > ReceiveBufferSize * 4)
                    {
                        // after a large reply, give the large buffer back
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
                    }
                }
            }
        }
        catch (RedisConnectionException error)
        {
            reason = error;
        }
        catch (Exception error)
        {
            reason = new RedisConnectionException($"Lost the connection to Redis at {Endpoint}: {error.Message}", error);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        Fail(reason ?? new RedisConnectionException($"The connection to Redis at {Endpoint} was closed."));
        LoopStopped();
    }

    /// <summary>Hands a reply to the oldest pending command; false if the connection has closed meanwhile.</summary>
    private bool Complete(RedisValue reply)
    {
        RedisOperation operation;
        lock (_lock)
        {
            if (_failure is not null)
            {
                return false;
            }
            if (!_pending.TryDequeue(out operation))
            {
                throw new RedisConnectionException($"Redis protocol error: Redis at {Endpoint} sent a reply nobody asked for ({reply}).");
            }
            if (_sweepFrom > 0)
            {
                _sweepFrom--;
            }
        }
        if (!operation.IsCompleted)
        {
            if (reply.Kind == RedisValueKind.Error)
            {
                operation.TrySetException(new RedisServerException(reply.AsString()!));
            }
            else
            {
                operation.TrySetResult(reply);
            }
        }
        operation.ReleaseFromQueue();
        return true;
    }

    /// <summary>In subscriber mode: is this reply pushed by the server rather than an answer to a command?</summary>
    private static bool IsPush(in RedisValue reply, out RedisMessage? message)
    {
        message = null;
        if (reply.Kind != RedisValueKind.Array || reply.Length < 3 || reply[0].Kind != RedisValueKind.BulkString)
        {
            return false;
        }
        var type = reply[0].AsBytes().AsSpan();
        if (type.SequenceEqual("message"u8) && reply.Length == 3)
        {
            message = new RedisMessage(reply[1].AsString() ?? "", reply[2].AsBytes() ?? []);
            return true;
        }
        return type.SequenceEqual("pmessage"u8) || type.SequenceEqual("smessage"u8);
    }

    private void Sweep()
    {
        var now = Stopwatch.GetTimestamp();
        var stalled = false;
        lock (_lock)
        {
            if (_failure is not null)
            {
                return;
            }
            var index = _sweepFrom;
            for (; index < _pending.Count; index++)
            {
                var operation = _pending[index];
                if (now - operation.QueuedAt < _timeoutTicks)
                {
                    break;
                }
                if (!operation.IsCompleted)
                {
                    operation.TrySetException(new RedisTimeoutException(string.Create(CultureInfo.InvariantCulture,
                        $"Redis at {Endpoint} did not answer within {(long)_options.CommandTimeout.TotalMilliseconds} ms ({_pending.Count} pending; {DescribeTraffic(now)}).")));
                }
            }
            _sweepFrom = index;
            stalled = _pending.Count > 0 && now - _pending[0].QueuedAt >= _stalledTicks;
        }
        if (stalled)
        {
            Fail(new RedisConnectionException(string.Create(CultureInfo.InvariantCulture,
                $"Redis at {Endpoint} has not answered for {_options.EffectiveStalledConnectionTimeout.TotalSeconds:0.#} s; dropping the connection.")));
        }
    }

    /// <summary>For timeout messages: which side stalled.</summary>
    private string DescribeTraffic(long now)
    {
        static string Ago(long now, long then) => then == 0 ? "never" : $"{Stopwatch.GetElapsedTime(then, now).TotalMilliseconds:0} ms ago";
        return string.Create(CultureInfo.InvariantCulture,
            $"last received {Ago(now, Volatile.Read(ref _lastReceived))}, last sent {Ago(now, Volatile.Read(ref _lastSent))}{(Volatile.Read(ref _sending) == 1 ? ", a send in progress" : "")}");
    }

    private static void EnableKeepAlive(Socket socket)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 30);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 5);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
        }
        catch (SocketException)
        {
            // the platform's defaults then
        }
    }

    private static long ToStopwatchTicks(TimeSpan duration) => (long)(duration.TotalSeconds * Stopwatch.Frequency);
}
