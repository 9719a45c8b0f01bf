using Microsoft.AspNetCore.Http.Extensions;

namespace Ujumbe.Web.Pages;

/// <summary>Paging links that keep the page's other query values (its filters).</summary>
public sealed record Pager(int Page, int PageSize, int Total, string Path, IQueryCollection Query)
{
    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);

    public string Link(int page)
    {
        var query = new QueryBuilder();
        foreach (var (key, values) in Query)
        {
            if (!key.Equals("page", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var value in values)
                {
                    query.Add(key, value ?? "");
                }
            }
        }
        query.Add("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Path + query.ToQueryString();
    }
}
