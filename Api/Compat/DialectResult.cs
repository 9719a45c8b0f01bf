using Ujumbe.Shared.Compat;

namespace Ujumbe.Api.Compat;

/// <summary>An endpoint's answer in a dialect's own error shape (see <see cref="Dialect.Error"/>).</summary>
public sealed record DialectResult(DialectError Error) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => Error.Status;

    public Task ExecuteAsync(HttpContext httpContext) => Dialect.WriteAsync(httpContext, Error);
}
