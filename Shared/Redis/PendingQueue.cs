namespace Ujumbe.Shared.Redis;

/// <summary>A growable ring of commands in the order they were sent (not thread-safe: the connection locks).</summary>
internal sealed class PendingQueue
{
    private RedisOperation?[] _items = new RedisOperation?[64];
    private int _head;

    public int Count { get; private set; }

    public RedisOperation this[int index] => _items[(_head + index) & (_items.Length - 1)]!;

    public void Enqueue(RedisOperation operation)
    {
        if (Count == _items.Length)
        {
            var larger = new RedisOperation?[_items.Length * 2];
            for (var i = 0; i < Count; i++)
            {
                larger[i] = this[i];
            }
            _items = larger;
            _head = 0;
        }
        _items[(_head + Count) & (_items.Length - 1)] = operation;
        Count++;
    }

    public bool TryDequeue(out RedisOperation operation)
    {
        if (Count == 0)
        {
            operation = null!;
            return false;
        }
        operation = _items[_head]!;
        _items[_head] = null;
        _head = (_head + 1) & (_items.Length - 1);
        Count--;
        return true;
    }
}
