using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Ujumbe.ServiceDefaults;

/// <summary>
/// In Development, ASP.NET puts its developer exception page in front of every app, and it answers
/// before our exception handler: stack traces, source paths and request headers (the gateway's signed
/// identity among them) in the body, exception type names as titles. Integrators run the services
/// locally and must see the contract they get in production, so the page hands every exception to the
/// same handlers <c>UseExceptionHandler</c> uses and renders nothing of its own.
/// </summary>
internal sealed class NoDeveloperExceptionPage(IEnumerable<IExceptionHandler> handlers) : IDeveloperPageExceptionFilter
{
    public async Task HandleExceptionAsync(ErrorContext errorContext, Func<ErrorContext, Task> next)
    {
        var context = errorContext.HttpContext;
        foreach (var handler in handlers)
        {
            if (await handler.TryHandleAsync(context, errorContext.Exception, context.RequestAborted))
            {
                return;
            }
        }
        context.Response.StatusCode = StatusCodes.Status500InternalServerError; // still no page: an empty 500
    }
}
