using System.Globalization;
using Microsoft.EntityFrameworkCore;

namespace Ujumbe.Api.Data;

/// <summary>A page of a list: <c>{data, page, page_size, total}</c> (API.md "Pagination").</summary>
public sealed record PageOf<T>(IReadOnlyList<T> Data, int Page, int PageSize, int Total);

public readonly record struct Paging(int Number, int Size)
{
    public const int DefaultSize = 20;
    public const int MaxSize = 100;
    public const int MaxPage = 1_000_000;

    public int Skip => (Number - 1) * Size;

    public PageOf<T> Of<T>(IReadOnlyList<T> data, int total) => new(data, Number, Size, total);

    /// <summary>This page of <paramref name="rows"/> (in list order), each made a response, and their total.</summary>
    public async Task<PageOf<T>> PageAsync<TRow, T>(IOrderedQueryable<TRow> rows, Func<TRow, T> toResponse, CancellationToken cancellationToken)
    {
        var total = await rows.CountAsync(cancellationToken);
        var page = await rows.Skip(Skip).Take(Size).ToListAsync(cancellationToken);
        return Of(page.Select(toResponse).ToList(), total);
    }

    /// <summary>Query values arrive as text so that a bad one gets a field error, not a binding failure.</summary>
    public static bool TryParse(string? page, string? pageSize, out Paging paging, out Dictionary<string, string[]> errors)
    {
        errors = [];
        var number = 1;
        var size = DefaultSize;
        if (page is not null && (!int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number is < 1 or > MaxPage))
        {
            errors["page"] = [$"must be a whole number from 1 to {MaxPage}"];
        }
        if (pageSize is not null && (!int.TryParse(pageSize, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxSize))
        {
            errors["page_size"] = [$"must be a whole number from 1 to {MaxSize}"];
        }
        paging = new Paging(number, size);
        return errors.Count == 0;
    }
}
