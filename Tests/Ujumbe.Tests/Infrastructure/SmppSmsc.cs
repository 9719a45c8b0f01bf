using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>One submit_sm as the SMSC got it.</summary>
public sealed record SmppSubmit(string From, string To, byte DataCoding, byte[] ShortMessage, byte RegisteredDelivery, string MessageId)
{
    /// <summary>The text: UCS-2 (data_coding 8) as UTF-16BE, otherwise the bytes as Latin-1 (Kannel sends GSM text unpacked).</summary>
    public string Text => DataCoding == 8 ? Encoding.BigEndianUnicode.GetString(ShortMessage) : Encoding.Latin1.GetString(ShortMessage);
}

/// <summary>
/// A small SMPP 3.4 SMSC for tests, so the leg from Kannel's bearerbox to the carrier is real SMPP: it accepts binds
/// (transceiver, transmitter, receiver), answers submit_sm with a message id and, when the submit asks for a receipt,
/// sends a delivery receipt (deliver_sm, esm_class 0x04, "id:… stat:… err:…" and the receipted_message_id and
/// message_state TLVs). Outcomes by the destination's last digits: …16 → submit_sm_resp 0x0000000B (invalid destination,
/// Kannel's DLR 16); …02 → receipt UNDELIV err:034 (DLR 2); anything else → DELIVRD (DLR 1).
/// </summary>
public sealed class SmppSmsc : IAsyncDisposable
{
    private const uint BindReceiver = 0x00000001, BindTransmitter = 0x00000002, SubmitSm = 0x00000004, DeliverSm = 0x00000005,
        Unbind = 0x00000006, BindTransceiver = 0x00000009, EnquireLink = 0x00000015, GenericNack = 0x80000000, Response = 0x80000000;

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _clients = [];
    private readonly Task _accepting;
    private long _nextId = 1000;
    private int _sequence;

    private SmppSmsc(TcpListener listener)
    {
        _listener = listener;
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<SmppSubmit> Submits { get; } = new();

    public static SmppSmsc Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new SmppSmsc(listener);
    }

    public IReadOnlyList<SmppSubmit> To(string number) => Submits.Where(s => s.To.TrimStart('+') == number.TrimStart('+')).ToList();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception error) when (error is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _clients.Add(client);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        var stream = client.GetStream();
        var writeLock = new SemaphoreSlim(1, 1);
        async Task SendAsync(uint command, uint status, uint sequence, byte[] body)
        {
            var pdu = new byte[16 + body.Length];
            BinaryPrimitives.WriteUInt32BigEndian(pdu, (uint)pdu.Length);
            BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(4), command);
            BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(8), status);
            BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(12), sequence);
            body.CopyTo(pdu, 16);
            await writeLock.WaitAsync();
            try
            {
                await stream.WriteAsync(pdu);
            }
            finally
            {
                writeLock.Release();
            }
        }
        try
        {
            var header = new byte[16];
            while (!_stop.IsCancellationRequested)
            {
                await stream.ReadExactlyAsync(header, _stop.Token);
                var length = BinaryPrimitives.ReadUInt32BigEndian(header);
                var command = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4));
                var sequence = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(12));
                var body = new byte[length - 16];
                await stream.ReadExactlyAsync(body, _stop.Token);
                switch (command)
                {
                    case BindTransceiver or BindTransmitter or BindReceiver:
                        await SendAsync(command | Response, 0, sequence, CString("ujumbe-smsc"));
                        break;
                    case EnquireLink:
                        await SendAsync(EnquireLink | Response, 0, sequence, []);
                        break;
                    case Unbind:
                        await SendAsync(Unbind | Response, 0, sequence, []);
                        return;
                    case SubmitSm:
                        await HandleSubmitAsync(body, sequence, SendAsync);
                        break;
                    default:
                        if ((command & Response) == 0)
                        {
                            await SendAsync(GenericNack, 0x00000003, sequence, []); // invalid command id
                        }
                        break; // deliver_sm_resp, enquire_link_resp: nothing to do
                }
            }
        }
        catch (Exception error) when (error is IOException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
        {
            // the ESME went away, or the SMSC stops
        }
        finally
        {
            client.Dispose();
        }
    }

    private async Task HandleSubmitAsync(byte[] body, uint sequence, Func<uint, uint, uint, byte[], Task> send)
    {
        var at = 0;
        ReadCString(body, ref at);                  // service_type
        at += 2;                                    // source ton, npi
        var from = ReadCString(body, ref at);
        at += 2;                                    // dest ton, npi
        var to = ReadCString(body, ref at);
        at += 3;                                    // esm_class, protocol_id, priority_flag
        ReadCString(body, ref at);                  // schedule_delivery_time
        ReadCString(body, ref at);                  // validity_period
        var registeredDelivery = body[at++];
        at++;                                       // replace_if_present_flag
        var dataCoding = body[at++];
        at++;                                       // sm_default_msg_id
        var smLength = body[at++];
        var shortMessage = body.AsSpan(at, smLength).ToArray();
        at += smLength;
        while (shortMessage.Length == 0 && at + 4 <= body.Length)
        {
            // message_payload (0x0424) instead of short_message
            var tag = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(at));
            var tagLength = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(at + 2));
            if (tag == 0x0424)
            {
                shortMessage = body.AsSpan(at + 4, tagLength).ToArray();
            }
            at += 4 + tagLength;
        }

        if (to.EndsWith("16", StringComparison.Ordinal))
        {
            await send(SubmitSm | Response, 0x0000000B, sequence, []); // ESME_RINVDSTADR
            return;
        }
        var id = Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
        Submits.Enqueue(new SmppSubmit(from, to, dataCoding, shortMessage, registeredDelivery, id));
        await send(SubmitSm | Response, 0, sequence, CString(id));
        if ((registeredDelivery & 0x03) == 0)
        {
            return;
        }
        var delivered = !to.EndsWith("02", StringComparison.Ordinal);
        var now = DateTime.UtcNow.ToString("yyMMddHHmm", CultureInfo.InvariantCulture);
        var receipt = Encoding.ASCII.GetBytes(
            $"id:{id} sub:001 dlvrd:{(delivered ? "001" : "000")} submit date:{now} done date:{now} stat:{(delivered ? "DELIVRD" : "UNDELIV")} err:{(delivered ? "000" : "034")} text:");
        var deliver = new List<byte>();
        deliver.AddRange(CString(""));             // service_type
        deliver.AddRange([1, 1]);                   // source ton, npi
        deliver.AddRange(CString(to));
        deliver.AddRange([1, 1]);                   // dest ton, npi
        deliver.AddRange(CString(from));
        deliver.AddRange([0x04, 0, 0]);             // esm_class: SMSC delivery receipt; protocol_id; priority
        deliver.AddRange(CString(""));             // schedule_delivery_time
        deliver.AddRange(CString(""));             // validity_period
        deliver.AddRange([0, 0, 0, 0]);             // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
        deliver.Add((byte)receipt.Length);
        deliver.AddRange(receipt);
        var receipted = CString(id);
        deliver.AddRange([0x00, 0x1E, 0, (byte)receipted.Length]);   // receipted_message_id
        deliver.AddRange(receipted);
        deliver.AddRange([0x04, 0x27, 0, 1, (byte)(delivered ? 2 : 5)]); // message_state: DELIVERED / UNDELIVERABLE
        await send(DeliverSm, 0, (uint)Interlocked.Increment(ref _sequence), [.. deliver]);
    }

    private static byte[] CString(string value) => [.. Encoding.ASCII.GetBytes(value), 0];

    private static string ReadCString(byte[] body, ref int at)
    {
        var end = Array.IndexOf(body, (byte)0, at);
        var value = Encoding.Latin1.GetString(body, at, end - at);
        at = end + 1;
        return value;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        await _accepting;
        _stop.Dispose();
    }
}
