using Microsoft.EntityFrameworkCore;
using Ujumbe.Api.Data;

namespace Ujumbe.Api.Compat;

/// <summary>
/// The sender ID a send uses where the seed makes it optional (issue 13 item 4): the account's sender ID approved
/// first. Null: the account has none approved.
/// </summary>
public static class DefaultSenderId
{
    public static Task<string?> FindAsync(UjumbeDb db, CancellationToken cancellationToken) =>
        db.SenderIds.AsNoTracking().Where(s => s.Status == SenderIdStatus.Approved)
            .OrderBy(s => s.DecidedAt).ThenBy(s => s.Name).Select(s => s.Name).FirstOrDefaultAsync(cancellationToken);
}
