using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Phones;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Api.Contacts;

public sealed record ImportRowError(int Row, string Error);

public sealed record ContactImportResponse(
    int Rows, int Created, int Updated, int OptedOut, int Failed, IReadOnlyList<ImportRowError> Errors, bool ErrorsTruncated);

/// <summary>
/// <c>POST /v1/contacts/import</c>: a CSV file (the body as <c>text/csv</c>, or the <c>file</c> part of a
/// multipart form). Every row is checked first; the good ones are then written in one transaction and
/// the bad ones reported with their line numbers, so what the answer calls imported is exactly what is
/// stored. A file that cannot be read as contact CSV at all (no phone column, another delimiter, not
/// UTF-8 text) imports nothing.
/// </summary>
public static class ContactImportApi
{
    public const int MaxErrorsReported = 1_000;

    private static readonly string[] CsvMediaTypes = ["text/csv", "text/plain", "application/csv", "application/vnd.ms-excel"];

    public static async Task<Results<Ok<ContactImportResponse>, ProblemHttpResult>> ImportAsync(
        HttpRequest http, Caller caller, AccountSettingsCache accounts, ContactImporter importer, CancellationToken cancellationToken)
    {
        // The one endpoint that takes more than the 1 MiB every other request is held to.
        if (http.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = ServiceDefaultsLimits.MaxUploadBodyBytes;
        }
        if (http.ContentLength > ServiceDefaultsLimits.MaxUploadBodyBytes)
        {
            return TooLarge();
        }
        var country = await accounts.DefaultCountryAsync(caller.AccountId, cancellationToken);

        Stream csv;
        if (http.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await http.ReadFormAsync(cancellationToken);
            }
            catch (Exception error) when (error is InvalidDataException or IOException and not BadHttpRequestException)
            {
                // No boundary, a boundary the body never uses (the reader runs out of stream), a truncated or oversized part: not a form we can read.
                return Problems.Create(400, ErrorCodes.ValidationFailed, "The request is not valid.",
                    "The multipart/form-data body cannot be read. Send the CSV as the \"file\" part of a well-formed form, or as text/csv.",
                    new Dictionary<string, string[]> { ["file"] = ["cannot be read from the multipart body"] });
            }
            var file = form.Files.GetFile("file") ?? (form.Files.Count > 0 ? form.Files[0] : null);
            if (file is null)
            {
                return Problems.Validation("file", "is required: the CSV file as the form's \"file\" part");
            }
            csv = file.OpenReadStream();
        }
        else if (http.ContentType is { } type && CsvMediaTypes.Any(t => type.StartsWith(t, StringComparison.OrdinalIgnoreCase)))
        {
            // The body is the file: one that says it is too large is answered so before a row of it is read.
            if (http.ContentLength > ContactCsv.MaxBytes)
            {
                return TooLarge();
            }
            csv = http.Body;
        }
        else
        {
            return Problems.Create(415, ErrorCodes.UnsupportedMediaType, "Unsupported media type.",
                "Send the CSV as the body with Content-Type: text/csv, or as the \"file\" part of a multipart/form-data form.");
        }

        await using (csv)
        {
            var result = await importer.ImportAsync(caller.AccountId, country, csv, cancellationToken);
            if (result.FileProblem is { } fileProblem)
            {
                return result.StoppedBy == CsvStopReason.TooLarge
                    ? TooLarge()
                    : Problems.Create(400, ErrorCodes.ValidationFailed, "The file cannot be imported.", fileProblem + " Nothing was imported.",
                        new Dictionary<string, string[]> { ["file"] = [fileProblem] });
            }
            return TypedResults.Ok(new ContactImportResponse(
                result.Rows, result.Created, result.Updated, result.OptedOut, result.Errors.Count,
                [.. result.Errors.Take(MaxErrorsReported)], result.Errors.Count > MaxErrorsReported));
        }
    }

    private static ProblemHttpResult TooLarge() =>
        Problems.Create(413, ErrorCodes.PayloadTooLarge, "The file is too large.",
            $"A contact import is at most {ContactCsv.MaxBytes / (1024 * 1024)} MB; split the file. Nothing was imported.");
}
